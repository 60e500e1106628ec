// Package host serves a language plugin that answers only GeneratePackage (see ../README.md): the part
// the Python/Go/Node.js plugin (..) and the .NET one (../dotnet) share. They differ in the pkg/v3 release
// their code generators come from, so each binds the schema and generates; this package does the rest.
package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Generate returns the SDK's files, by path relative to the request's directory.
type Generate func(req *pulumirpc.GeneratePackageRequest) (map[string][]byte, error)

type server struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	language string
	generate Generate
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "0.0.0-codegen"}, nil
}

func (s *server) GeneratePackage(_ context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	files, err := s.generate(req)
	if err != nil {
		return nil, fmt.Errorf("%s codegen: %w", s.language, err)
	}
	for name, content := range files {
		path := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{}, nil
}

// Serve runs the plugin until the CLI closes it; the CLI reads the port from the first line of stdout.
func Serve(language string, generate Generate) error {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &server{language: language, generate: generate})
			return nil
		},
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d\n", handle.Port)
	return <-handle.Done
}
