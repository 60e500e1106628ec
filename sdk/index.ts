export { PreviewDatabase, PreviewDatabaseArgs, PreviewDatabaseSource, PreviewDatabaseTimeouts, PREVIEW_DATABASE_SECRET_OUTPUTS } from "./preview-database";
export { getPreviewDatabase, GetPreviewDatabaseArgs, GetPreviewDatabaseResult } from "./get-preview-database";
export { previewDatabaseProvider } from "./provider-shim";
export {
  currentBranch,
  currentPullRequest,
  previewNameForBranch,
  previewNameForStack,
  previewNameFromEnvironment,
  stackNameForBranch,
  stackNameFromEnvironment,
} from "./branch";
