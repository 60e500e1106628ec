/** Sent as the User-Agent; a test keeps it equal to package.json's version. */
export const VERSION = "0.2.0";
export const USER_AGENT = `pulumi-capydb/${VERSION} (node ${process.versions.node})`;
