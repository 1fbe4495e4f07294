// Secrets travel inside URLs (DB passwords, the API's apiKey query parameter); every string that
// may reach a log, an error or an artifact goes through here first.
const registered = new Set<string>();

/** Remember a secret value so that `redact` masks it wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value);
}

export function redact(text: string): string {
  let out = text
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)([^@\s]+)@/gi, '$1****@')
    .replace(/([?&](?:apiKey|api_key|password|token)=)[^&\s"']+/gi, '$1****')
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1****');
  for (const secret of registered) out = out.split(secret).join('****');
  return out;
}
