// Shared by the two codegen plugin modules (.. and ../dotnet), which require it through a replace.
module pulumi-capydb.local/sdk-codegen/host

go 1.26.6

require (
	github.com/pulumi/pulumi/sdk/v3 v3.206.0
	google.golang.org/grpc v1.72.1
	google.golang.org/protobuf v1.36.6
)
