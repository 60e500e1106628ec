// A Go program with the generated Go SDK, run by test/cli/generated-sdks.test.ts through the Go
// Automation API's inline source (no language host): `capydb-go-program up|destroy`. Stack config comes
// from CAPYDB_SDK_TEST_* (the API key set as a secret); the backend, passphrase and PULUMI_HOME from the
// usual PULUMI_* variables. Prints one JSON line: the outputs with their secret flags, and the changes.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/capydb/pulumi-capydb/sdk/go/capydb"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func program(ctx *pulumi.Context) error {
	db, err := capydb.NewPreviewDatabase(ctx, "db", &capydb.PreviewDatabaseArgs{
		ProjectId: pulumi.String(os.Getenv("CAPYDB_SDK_TEST_PROJECT_ID")),
		Name:      pulumi.String("go-sdk"),
		TtlHours:  pulumi.Int(24),
	})
	if err != nil {
		return err
	}
	ctx.Export("previewId", db.ID())
	ctx.Export("name", db.Name)
	ctx.Export("state", db.State)
	ctx.Export("host", db.Host)
	ctx.Export("directUrl", db.DirectUrl)
	ctx.Export("password", db.Password)
	// The plugin's invoke, reading back the preview just made (after it exists: the name is its output).
	found := capydb.LookupPreviewDatabaseOutput(ctx, capydb.LookupPreviewDatabaseOutputArgs{ProjectId: db.ProjectId, Name: db.Name})
	ctx.Export("lookedUpId", found.Id())
	ctx.Export("lookedUpDirectUrl", found.DirectUrl())
	return nil
}

type output struct {
	Value  interface{} `json:"value"`
	Secret bool        `json:"secret"`
}

func run(command string) (map[string]interface{}, error) {
	ctx := context.Background()
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "capydb-go-sdk", program)
	if err != nil {
		return nil, err
	}
	config := auto.ConfigMap{
		"capydb:apiKey": auto.ConfigValue{Value: os.Getenv("CAPYDB_SDK_TEST_API_KEY"), Secret: true},
		"capydb:apiUrl": auto.ConfigValue{Value: os.Getenv("CAPYDB_SDK_TEST_API_URL")},
	}
	if err := stack.SetAllConfig(ctx, config); err != nil {
		return nil, err
	}
	switch command {
	case "up":
		res, err := stack.Up(ctx)
		if err != nil {
			return nil, err
		}
		outputs := map[string]output{}
		for name, out := range res.Outputs {
			outputs[name] = output{Value: out.Value, Secret: out.Secret}
		}
		return map[string]interface{}{"outputs": outputs, "changes": res.Summary.ResourceChanges}, nil
	case "destroy":
		res, err := stack.Destroy(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"changes": res.Summary.ResourceChanges}, nil
	}
	return nil, fmt.Errorf("usage: capydb-go-program up|destroy (got %q)", command)
}

func main() {
	command := ""
	if len(os.Args) > 1 {
		command = os.Args[1]
	}
	result, err := run(command)
	if err != nil {
		fmt.Fprintf(os.Stderr, "capydb-go-program %s: %v\n", command, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		os.Exit(1)
	}
}
