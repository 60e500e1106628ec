/**
 * Credential-bearing outputs. The SDK passes exactly these as additionalSecretOutputs, so the engine
 * stores them encrypted. Free of imports so that the SDK can load it without the provider's code.
 */
export const SECRET_OUTPUTS = ["directUrl", "pooledUrl", "password"] as const;
