/** The package's name and type tokens, shared by the schema generator and the server. */
export const PACKAGE_NAME = "capydb";
export const RESOURCE_TOKEN = "capydb:index:PreviewDatabase";
export const TIMEOUTS_TOKEN = "capydb:index:PreviewDatabaseTimeouts";
export const LOOKUP_TOKEN = "capydb:index:getPreviewDatabase";
export const SOURCE_TOKEN = "capydb:index:PreviewDatabaseSource";
