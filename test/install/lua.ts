import { spawnSync } from 'node:child_process';

/** LUA is Debian's Lua 5.1 interpreter, the language version of Argo CD's Lua VM (gopher-lua). */
export const LUA = 'lua5.1';

/** requireLua fails with the remedy when the interpreter is missing (.ci/run installs it: test/tools/install-lua.sh). */
export function requireLua(): void {
  const r = spawnSync(LUA, ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      `${LUA} is missing: the Argo CD Lua tests need Debian's interpreter. Install it as root with ` +
        '`apt-get update && apt-get install -y lua5.1` (or run test/tools/install-lua.sh, as .ci/run does)',
    );
}

const luaString = (s: string): string =>
  `"${[...Buffer.from(s, 'utf8')]
    .map((b) =>
      b === 34 || b === 92 || b < 32 || b > 126 ? `\\${String(b).padStart(3, '0')}` : String.fromCharCode(b),
    )
    .join('')}"`;

/** luaLiteral writes a JSON value as a Lua table constructor, the way Argo CD hands `obj` to a script (null is nil). */
export function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return luaString(v);
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  const entries = Object.entries(v as Record<string, unknown>).filter(
    ([, x]) => x !== null && x !== undefined,
  );
  return `{${entries.map(([k, x]) => `[${luaString(k)}] = ${luaLiteral(x)}`).join(', ')}}`;
}

// Encodes what a script returns as JSON (tables with 1..n keys are arrays, the rest objects, keys sorted).
const ENCODER = String.raw`
local function encode(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then return string.format("%.14g", v) end
  if t == "string" then
    return '"' .. (v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end)) .. '"'
  end
  if t == "table" then
    local parts = {}
    if #v > 0 then
      for i = 1, #v do parts[i] = encode(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do table.insert(parts, encode(tostring(k)) .. ":" .. encode(x)) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error("cannot encode a " .. t)
end
`;

/**
 * runLua runs an Argo CD script (health, discovery or action) with the global `obj` set from `object`, in the real
 * Lua 5.1 interpreter, and returns what the script returned, decoded from JSON.
 */
export function runLua(script: string, object: unknown): unknown {
  const program = `obj = ${luaLiteral(object)}\nlocal result = (function()\n${script}\nend)()\n${ENCODER}\nio.write(encode(result))\n`;
  const r = spawnSync(LUA, ['-'], { input: program, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${LUA} failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
