/**
 * The types of proven logins that the published declarations of `pulumi-capydb/provider` name. Kept
 * free of imports: those declarations must type-check in a program without zod's (see login-proof.ts).
 */

/** How a create or reset decides the preview is ready: a login through both URLs, or the job alone. */
export type Readiness = "login" | "job";

/**
 * One login attempt: connects to `url` within `connectTimeoutMs`, runs `SELECT 1`, disconnects.
 * Rejects with what the server (or the network) answered. Injected through ProviderDeps in tests.
 */
export type LoginProbe = (url: string, connectTimeoutMs: number) => Promise<void>;
