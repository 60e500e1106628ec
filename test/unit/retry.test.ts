import { strict as assert } from "assert";
import {
  failureRetryDelayMs,
  jittered,
  RETRY_FLOOR_MS,
  parseRetryAfter,
  rateLimitDelayMs,
  RETRY_AFTER_CAP_MS,
  shouldRetryFailure,
} from "../../provider/retry";

describe("retry rules", () => {
  it("retries GET on network errors, 408 and 5xx, three attempts in all", () => {
    for (const status of [undefined, 408, 500, 502, 503, 504]) {
      assert.ok(shouldRetryFailure("GET", status, 1), `GET ${status}`);
      assert.ok(shouldRetryFailure("GET", status, 2));
      assert.equal(shouldRetryFailure("GET", status, 3), false);
    }
    assert.deepEqual([failureRetryDelayMs(1), failureRetryDelayMs(2)], [1000, 2000]);
  });

  it("never resends POST or DELETE after a server or transport failure", () => {
    for (const method of ["POST", "DELETE"]) {
      for (const status of [undefined, 408, 500, 502, 504]) assert.equal(shouldRetryFailure(method, status, 1), false);
    }
  });

  it("does not retry client errors", () => {
    for (const status of [400, 401, 403, 404, 409]) assert.equal(shouldRetryFailure("GET", status, 1), false);
  });

  it("parses Retry-After as seconds or HTTP-date, capped at a minute", () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(parseRetryAfter("3", now), 3000);
    assert.equal(parseRetryAfter("0", now), 0);
    assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
    assert.equal(parseRetryAfter(new Date(now - 5000).toUTCString(), now), 0);
    assert.equal(parseRetryAfter("3600", now), RETRY_AFTER_CAP_MS);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter(["2"], now), 2000);
  });

  it("backs off exponentially with jitter, capped at 30 s", () => {
    const top = () => 0.999999;
    const bottom = () => 0;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => rateLimitDelayMs(n, top)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.deepEqual([1, 2, 6].map((n) => rateLimitDelayMs(n, bottom)), [500, 1000, 15000]);
  });

  it("jitters every failure retry by ±25 % around the nominal wait, never under the floor", () => {
    assert.deepEqual([0, 0.5, 0.999999].map((r) => failureRetryDelayMs(1, () => r)), [750, 1000, 1250]);
    assert.deepEqual([0, 0.5].map((r) => failureRetryDelayMs(2, () => r)), [1500, 2000]);
    assert.equal(jittered(0, () => 0.5), RETRY_FLOOR_MS);
    assert.equal(jittered(100, () => 0), RETRY_FLOOR_MS);
  });
});
