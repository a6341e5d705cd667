// Verifies a Sigstore bundle (or a bare DSSE envelope) offline with a public key, through sigstore-js's
// own verifier (@sigstore/verify), independently of Hoist's Python code.
//
//   node verify.js BUNDLE_OR_ENVELOPE.json PUBLIC_KEY.pem [ARTIFACT]
//
// Prints one JSON line: {"ok": true, "statement": {...}} or {"ok": false, "code": ..., "message": ...};
// exit 0 verified, 1 not verified, 2 bad usage. A bare DSSE envelope (what Hoist stores for its own
// statements) is wrapped in the v0.3 bundle cosign would write around it: public-key hint, no tlog.
// With no tlog entries sigstore-js never compares a DSSE statement's subject with the artifact (only
// the signature over the payload is checked), so that check is made here: the artifact's sha256 must
// be one of the statement's subjects.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const { bundleFromJSON } = require("@sigstore/bundle");
const { toSignedEntity, toTrustMaterial, Verifier } = require("@sigstore/verify");

const BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
const NO_ROOT = { tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };

function asBundle(document) {
  if (document.mediaType) return document;
  const hint = (document.signatures || []).map((s) => s.keyid).find(Boolean) || "";
  return { mediaType: BUNDLE_V03, verificationMaterial: { publicKey: { hint }, tlogEntries: [] }, dsseEnvelope: document };
}

function statementOf(bundle) {
  if (!bundle.dsseEnvelope) return null;
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"));
}

function subjectsOf(statement) {
  return (statement.subject || []).flatMap((s) => Object.entries(s.digest || {}).map(([alg, hex]) => `${alg}:${hex}`));
}

function main(argv) {
  if (argv.length < 2 || argv.length > 3) {
    process.stderr.write("usage: node verify.js BUNDLE_OR_ENVELOPE.json PUBLIC_KEY.pem [ARTIFACT]\n");
    return 2;
  }
  const [bundlePath, keyPath, artifactPath] = argv;
  const json = asBundle(JSON.parse(fs.readFileSync(bundlePath, "utf8")));
  const artifact = artifactPath ? fs.readFileSync(artifactPath) : undefined;
  const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath));
  // the key given is the one to check against, whatever hint the bundle carries (as `cosign verify --key`)
  const trust = toTrustMaterial(NO_ROOT, () => ({ publicKey, validFor: () => true }));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  try {
    const bundle = bundleFromJSON(json);
    verifier.verify(toSignedEntity(bundle, artifact));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, code: error.code || error.name, message: error.message }));
    return 1;
  }
  const statement = statementOf(json);
  if (statement && artifact) {
    const digest = `sha256:${crypto.createHash("sha256").update(artifact).digest("hex")}`;
    if (!subjectsOf(statement).includes(digest)) {
      const message = `the statement is about ${subjectsOf(statement).join(", ")}, not ${digest}`;
      console.log(JSON.stringify({ ok: false, code: "DIGEST_MISMATCH", message }));
      return 1;
    }
  }
  console.log(JSON.stringify({ ok: true, statement }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
