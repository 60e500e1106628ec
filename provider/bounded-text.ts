/**
 * Text from the server (error bodies, job stderr, last_error) ends up in error messages that the
 * plugin sends over gRPC and the CLI prints: a runaway body must not become a runaway message.
 */
export const MAX_SERVER_TEXT_CHARS = 2_000;

/** Keeps the first `max` characters and says how much was cut. */
export function cutText(text: string, max = MAX_SERVER_TEXT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [cut: ${text.length - max} more characters]`;
}

/** Keeps the last `max` characters (the end of a log is where the failure is) and says how much was cut. */
export function cutTextKeepingEnd(text: string, max = MAX_SERVER_TEXT_CHARS): string {
  if (text.length <= max) return text;
  return `[cut: ${text.length - max} earlier characters] …${text.slice(-max)}`;
}
