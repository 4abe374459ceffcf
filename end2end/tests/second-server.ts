// A second `switchyard serve` for tests that need their own accounts (the sign-in tests, the
// first-run setup), on its own port and empty data dir.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repoRoot = path.resolve(__dirname, "../..");
export const binary = process.env.SWITCHYARD_BIN ?? path.join(repoRoot, "target/release/switchyard");

/** Starts the server on `port` with `env` (and without the variables named in `unset`) and
 * waits until it answers; returns it. Its data lives in `dataDir` (default: a new folder), so
 * a server started again on the same folder keeps its accounts and signing keys. */
export async function startServer(
  port: number,
  env: Record<string, string>,
  unset: string[] = [],
  dataDir: string = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-second-")),
): Promise<ChildProcess> {
  const environment: Record<string, string | undefined> = { ...process.env, ...env };
  for (const name of unset) delete environment[name];
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(
    binary,
    ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--site-dir", "target/site"],
    { cwd: repoRoot, stdio: "ignore", env: environment },
  );
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  server.kill();
  throw new Error(`the second server did not answer on ${base}`);
}

/** Starts a server on `port` with sign-in off and a random-weight test model written by
 * `switchyard model write-test` (`shape`: `tiny` or `paced`) as model `id`, and returns once
 * the model is loaded; `settings` are more lines of its config file (limits, planner tools).
 * Everyone is the local operator. */
export async function startServerWithModel(
  port: number,
  id: string,
  shape: "tiny" | "paced",
  settings: string,
): Promise<ChildProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `switchyard-e2e-${id}-`));
  const model = path.join(dataDir, `${id}.gguf`);
  execFileSync(binary, ["model", "write-test", "--shape", shape, model]);
  const config = path.join(dataDir, "switchyard.toml");
  fs.writeFileSync(config, `${settings}\n\n[[models]]\nid = ${JSON.stringify(id)}\npath = ${JSON.stringify(model)}\n`);
  const server = await startServer(
    port,
    { SWITCHYARD_AUTH_REQUIRED: "false", SWITCHYARD_CONFIG: config },
    ["SWITCHYARD_ADMIN_EMAIL", "SWITCHYARD_ADMIN_PASSWORD"],
    dataDir,
  );
  // Answering is not the same as the model being loaded: wait for that too.
  for (let i = 0; i < 300; i++) {
    const health = await (await fetch(`http://127.0.0.1:${port}/api/v1/health`)).json();
    const model = health.inference?.models?.find((m: { id: string }) => m.id === id);
    if (model?.state === "ready") return server;
    if (model?.state === "failed") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill();
  throw new Error(`model ${id} did not load on the server at port ${port}`);
}
