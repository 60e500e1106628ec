/**
 * The `language` section of the schema: how `pulumi package gen-sdk` names the generated SDKs
 * (sdk-gen/, `npm run sdk:gen`). `respectSchemaVersion` stamps the schema's version into each SDK and its
 * pulumi-plugin.json, so that a program using an SDK asks the engine for the plugin of that version,
 * the one `pulumi plugin install resource capydb <version> --file <archive>` installed.
 */
export const SDK_LANGUAGES = {
  nodejs: { packageName: "@capydb/pulumi", respectSchemaVersion: true },
  python: { packageName: "pulumi_capydb", respectSchemaVersion: true },
  go: {
    importBasePath: "github.com/capydb/pulumi-capydb/sdk/go/capydb",
    generateResourceContainerTypes: true,
    respectSchemaVersion: true,
  },
  csharp: { rootNamespace: "CapyDB", namespaces: { capydb: "Pulumi" }, respectSchemaVersion: true },
} as const;
