import type { IncomingHttpHeaders } from "node:http";
import { HttpError } from "./http-error";
import { hashKey, newApiKey } from "./ids";
import type { AuthVia } from "./types";

export type Scope =
  | "projects:read"
  | "projects:write"
  | "credentials:read"
  | "jobs:read"
  | "backups:read"
  | "backups:write";

/** Scopes a project-scoped key may never carry (§1.2: org-management scopes are refused on it). */
const ORG_MANAGEMENT_PREFIXES = ["organizations:", "api_keys:"];

export interface Principal {
  keyHash: string;
  scopes: string[];
  organizationId: string;
  projectId?: string;
}

interface KeyRecord extends Principal {
  expiresAt?: number;
  revoked: boolean;
}

export interface PresentedKey {
  key?: string;
  via: AuthVia;
}

export function presentedKey(headers: IncomingHttpHeaders): PresentedKey {
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return { key: match[1], via: "bearer" };
  }
  const apiKey = headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey.trim() !== "") return { key: apiKey.trim(), via: "x-api-key" };
  return { via: "none" };
}

export class KeyStore {
  private readonly keys = new Map<string, KeyRecord>();

  constructor(
    private readonly organizationId: string,
    private readonly now: () => number,
  ) {}

  create(opts: { scopes: string[]; projectId?: string; expiresAt?: number }): string {
    if (opts.projectId) {
      const refused = opts.scopes.filter((s) => ORG_MANAGEMENT_PREFIXES.some((p) => s.startsWith(p)));
      if (refused.length > 0) {
        throw new Error(`a project-scoped key cannot carry org-management scopes: ${refused.join(", ")}`);
      }
    }
    const key = newApiKey();
    const keyHash = hashKey(key);
    this.keys.set(keyHash, {
      keyHash,
      scopes: [...opts.scopes],
      organizationId: this.organizationId,
      projectId: opts.projectId,
      expiresAt: opts.expiresAt,
      revoked: false,
    });
    return key;
  }

  revoke(key: string): void {
    const record = this.keys.get(hashKey(key));
    if (record) record.revoked = true;
  }

  authenticate(presented: PresentedKey): Principal {
    if (!presented.key) throw new HttpError(401, "missing API key");
    const record = this.keys.get(hashKey(presented.key));
    if (!record) throw new HttpError(401, "invalid API key");
    if (record.revoked) throw new HttpError(401, "API key has been revoked");
    if (record.expiresAt !== undefined && record.expiresAt <= this.now()) throw new HttpError(401, "API key has expired");
    const { keyHash, scopes, organizationId, projectId } = record;
    return { keyHash, scopes, organizationId, projectId };
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scopes.includes("*") || principal.scopes.includes(scope)) return;
  throw new HttpError(403, `API key lacks the ${scope} scope`);
}

export function requireProjectAccess(principal: Principal, projectId: string): void {
  if (principal.projectId !== undefined && principal.projectId !== projectId) {
    throw new HttpError(403, "API key is not allowed to access this project");
  }
}
