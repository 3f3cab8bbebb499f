// Produces webhook signature test vectors with @octokit/webhooks-methods `sign()`, an
// implementation independent of ours, and prints them as JSON on stdout.
//
// Usage (see README.md beside this file):
//   mkdir -p /tmp/octokit && cd /tmp/octokit && npm install @octokit/webhooks-methods
//   node sign.mjs /tmp/octokit > vectors.json
//
// The argument is the npm project directory where the package is installed, so that
// nothing is installed inside the repository. The output is deterministic: running the
// script again must reproduce vectors.json byte for byte.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

async function loadOctokit(projectDir) {
  if (!projectDir) {
    return import("@octokit/webhooks-methods");
  }
  const packageDir = join(projectDir, "node_modules", "@octokit", "webhooks-methods");
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const entry = manifest.exports?.["."]?.node?.import ?? manifest.main;
  const module = await import(pathToFileURL(join(packageDir, entry)).href);
  return { ...module, version: manifest.version };
}

// `body` is repeated `repeat` times (default 1) to build large bodies without storing
// them; `body_file` is read (as UTF-8, which the fixtures are) relative to this directory.
const cases = [
  {
    name: "github docs example",
    secret: "It's a Secret to Everybody",
    body: "Hello, World!",
  },
  {
    name: "small ping body",
    secret: "ferry-webhook-secret",
    body: '{"zen":"Design for failure.","hook_id":1}',
  },
  {
    name: "unicode body",
    secret: "ferry-webhook-secret",
    body: '{"name":"build (ünïcödé) 🚀 日本語","labels":["self-hosted","gpu-a10g"]}',
  },
  {
    name: "unicode secret",
    secret: "sécret-🔑-ключ",
    body: "café ☕\n",
  },
  {
    name: "secret longer than the HMAC block",
    secret: "rotation-" + "0123456789abcdef".repeat(8),
    body: '{"action":"queued"}',
  },
  {
    name: "control characters and escapes",
    secret: "ferry-webhook-secret",
    body: 'line1\r\nline2\t"quoted" \\ back\u0000slash\u001f end',
  },
  {
    name: "large ascii body (950 kB)",
    secret: "ferry-webhook-secret",
    body: '{"k":"0123456789"},',
    repeat: 50000,
  },
  {
    name: "large unicode body (1.08 MB)",
    secret: "ferry-webhook-secret",
    body: "🚀 ünïcödé 日本語 ",
    repeat: 40000,
  },
  {
    name: "real queued workflow_job delivery",
    secret: "ferry-webhook-secret",
    body_file: "../github/workflow_job.queued.1.json",
  },
  {
    name: "installation created delivery",
    secret: "another secret",
    body_file: "../github/installation.created.0.json",
  },
];

const octokit = await loadOctokit(process.argv[2]);
const vectors = [];
for (const vector of cases) {
  const body = vector.body_file
    ? readFileSync(join(here, vector.body_file), "utf8")
    : vector.body.repeat(vector.repeat ?? 1);
  vectors.push({ ...vector, signature: await octokit.sign(vector.secret, body) });
}

const output = {
  generator: "crates/github-webhook/tests/data/octokit/sign.mjs",
  package: "@octokit/webhooks-methods",
  package_version: octokit.version ?? octokit.sign.VERSION,
  vectors,
};
process.stdout.write(JSON.stringify(output, null, 2) + "\n");
