// A language plugin that answers only GeneratePackage, so that `pulumi package gen-sdk` works with the
// CLI this project builds. The CLI delegates SDK generation to `pulumi-language-<lang>`, and the real
// Python, Go and Node.js language hosts are modules the Go module proxy does not serve; their
// GeneratePackage is a call into the codegen packages of pkg/v3, which this plugin makes at the CLI's
// own release. One binary serves each language under the name it is started as (see README.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"pulumi-capydb.local/sdk-codegen/host"
)

const tool = "pulumi-capydb sdk-codegen"

type generator func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader) (map[string][]byte, error)

var generators = map[string]generator{
	"python": func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader) (map[string][]byte, error) {
		return python.GeneratePackage(tool, pkg, req.ExtraFiles, loader)
	},
	"go": func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, _ schema.ReferenceLoader) (map[string][]byte, error) {
		files, err := gogen.GeneratePackage(tool, pkg, req.LocalDependencies)
		if err != nil {
			return nil, err
		}
		return withGoMod(pkg, files)
	},
	"nodejs": func(pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader) (map[string][]byte, error) {
		return nodejs.GeneratePackage(tool, pkg, req.ExtraFiles, req.LocalDependencies, req.Local, loader)
	},
}

// withGoMod adds the go.mod that makes the SDK a module of its own (named by the schema's
// language.go.importBasePath), so that a program can require it through a replace directive. Its
// sdk/v3 is the release this plugin is built with, the CLI's.
func withGoMod(pkg *schema.Package, files map[string][]byte) (map[string][]byte, error) {
	info, _ := pkg.Language["go"].(gogen.GoPackageInfo)
	if info.ImportBasePath == "" {
		return nil, fmt.Errorf("the schema has no language.go.importBasePath: the Go SDK needs a module path")
	}
	sdkVersion := ""
	if build, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range build.Deps {
			if dep.Path == "github.com/pulumi/pulumi/sdk/v3" {
				sdkVersion = dep.Version
			}
		}
	}
	if sdkVersion == "" {
		return nil, fmt.Errorf("cannot tell which github.com/pulumi/pulumi/sdk/v3 this plugin is built with")
	}
	files[path.Join(pkg.Name, "go.mod")] = []byte(fmt.Sprintf(
		"module %s\n\ngo 1.24\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n", info.ImportBasePath, sdkVersion))
	return files, nil
}

func main() {
	language := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-language-")
	generate, ok := generators[language]
	if !ok {
		fmt.Fprintf(os.Stderr, "sdk-codegen: started as %q; run it as pulumi-language-{python,go,nodejs}\n", os.Args[0])
		os.Exit(2)
	}
	err := host.Serve(language, func(req *pulumirpc.GeneratePackageRequest) (map[string][]byte, error) {
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
		return generate(pkg, req, loader)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk-codegen: %v\n", err)
		os.Exit(1)
	}
}
