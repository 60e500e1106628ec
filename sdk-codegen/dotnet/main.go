// The .NET member of sdk-codegen (see ../README.md): pkg/v3 dropped its .NET codegen after v3.206.0 (it moved to
// the pulumi-dotnet repository, whose module the Go module proxy does not serve), so this module pins pkg/v3
// v3.206.0, as pulumi-yaml-host does. Otherwise the same plugin as ../main.go.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const tool = "pulumi-capydb sdk-codegen (dotnet)"

type generator func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader) (map[string][]byte, error)

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

var generators = map[string]generator{
	"dotnet": func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, _ schema.ReferenceLoader) (map[string][]byte, error) {
		return dotnet.GeneratePackage(tool, pkg, req.ExtraFiles, req.LocalDependencies)
	},
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	language string
	generate generator
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "0.0.0-codegen"}, nil
}

func (h *host) GeneratePackage(ctx context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
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
	files, err := h.generate(pkg, req, loader)
	if err != nil {
		return nil, fmt.Errorf("%s codegen: %w", h.language, err)
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

func main() {
	http.DefaultTransport = offlineLogo{}
	http.DefaultClient.Transport = offlineLogo{}
	language := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-language-")
	generate, ok := generators[language]
	if !ok {
		fmt.Fprintf(os.Stderr, "sdk-codegen: started as %q; run it as pulumi-language-dotnet\n", os.Args[0])
		os.Exit(2)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{language: language, generate: generate})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk-codegen: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "sdk-codegen: %v\n", err)
		os.Exit(1)
	}
}
