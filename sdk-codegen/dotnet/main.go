// The .NET member of sdk-codegen (see ../README.md): pkg/v3 dropped its .NET codegen after v3.206.0 (it moved to
// the pulumi-dotnet repository, whose module the Go module proxy does not serve), so this module pins pkg/v3
// v3.206.0, as pulumi-yaml-host does. Serves `pulumi-language-dotnet`, answering only GeneratePackage.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"os"

	"github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"pulumi-capydb.local/sdk-codegen/host"
)

const tool = "pulumi-capydb sdk-codegen (dotnet)"

// offlineLogo answers the one HTTP request the .NET codegen makes: it downloads the package logo
// (the schema's logoUrl, else Pulumi's from GitHub) into logo.png. There is no network here, so
// every request gets a plain 64x64 PNG instead; nothing else in this plugin speaks HTTP.
type offlineLogo struct{}

func (offlineLogo) RoundTrip(req *http.Request) (*http.Response, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{0x8b, 0x5a, 0x2b, 0xff}}, image.Point{}, draw.Src)
	var body bytes.Buffer
	if err := png.Encode(&body, img); err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": []string{"image/png"}}, Body: io.NopCloser(&body),
		ContentLength: int64(body.Len()), Request: req,
	}, nil
}

func main() {
	http.DefaultTransport = offlineLogo{}
	http.DefaultClient.Transport = offlineLogo{}
	err := host.Serve("dotnet", func(req *pulumirpc.GeneratePackageRequest) (map[string][]byte, error) {
		loader, err := schema.NewLoaderClient(req.LoaderTarget)
		if err != nil {
			return nil, err
		}
		var spec schema.PackageSpec
		if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
			return nil, fmt.Errorf("schema is not JSON: %w", err)
		}
		pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
		if err != nil {
			return nil, err
		}
		if diags.HasErrors() {
			return nil, fmt.Errorf("schema does not bind: %v", diags)
		}
		return dotnet.GeneratePackage(tool, pkg, req.ExtraFiles, req.LocalDependencies)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk-codegen: %v\n", err)
		os.Exit(1)
	}
}
