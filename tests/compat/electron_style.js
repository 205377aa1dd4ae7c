// An Electron-style application, from Debian's packages (Debian 12 packages
// no Electron): a Node.js main process that fetches a URL itself, then starts
// Chromium, sandboxed, as its renderer and has it load the same URL, driving
// it over the DevTools protocol on a pipe (fds 3 and 4) as Electron's main
// process drives its renderers over IPC.
//
//   node electron_style.js CHROMIUM USER_DATA_DIR URL [CHROMIUM_FLAG...]
//
// Prints "main <body>" and "renderer <body text>", one line each; exits 0
// only if both loaded, within 60 seconds.
"use strict";
const { spawn } = require("child_process");

const [chromium, userDataDir, url, ...extraFlags] = process.argv.slice(2);
const deadline = setTimeout(() => fail("timed out"), 60000);

function fail(why) {
  console.error(`electron_style: ${why}`);
  process.exit(1);
}

// The DevTools protocol over the pipe: JSON messages ended by a NUL byte.
class Pipe {
  constructor(input, output) {
    this.input = input;
    this.next = 1;
    this.waiting = new Map();
    this.buffer = "";
    output.on("data", (chunk) => {
      this.buffer += chunk.toString();
      let end;
      while ((end = this.buffer.indexOf("\0")) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 1);
        const waiter = this.waiting.get(message.id);
        if (waiter === undefined) continue;
        this.waiting.delete(message.id);
        if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
        else waiter.resolve(message.result);
      }
    });
  }
  send(method, params = {}, sessionId = undefined) {
    const id = this.next++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    this.input.write(JSON.stringify(message) + "\0");
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }
}

async function main() {
  // The main process's own request (Electron's net module, node's fetch).
  const response = await fetch(url);
  console.log(`main ${(await response.text()).trim()}`);

  const browser = spawn(
    chromium,
    [
      "--headless=new",
      "--no-first-run",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${userDataDir}`,
      "--remote-debugging-pipe",
      ...extraFlags,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "inherit", "pipe", "pipe"] },
  );
  let done = false;
  browser.on("exit", (code, signal) => {
    if (!done) fail(`chromium exited early (${code ?? signal})`);
    clearTimeout(deadline);
    process.exit(0);
  });
  const pipe = new Pipe(browser.stdio[3], browser.stdio[4]);

  const { targetId } = await pipe.send("Target.createTarget", { url });
  const { sessionId } = await pipe.send("Target.attachToTarget", { targetId, flatten: true });
  let text = "";
  for (let i = 0; i < 300 && !text; ++i) {
    const { result } = await pipe.send(
      "Runtime.evaluate",
      {
        expression: "document.readyState === 'complete' ? document.body.innerText : ''",
        returnByValue: true,
      },
      sessionId,
    );
    text = (result.value || "").trim();
    if (!text) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!text) fail("the page did not load");
  console.log(`renderer ${text}`);
  done = true;
  await pipe.send("Browser.close").catch(() => {});
}

main().catch((error) => fail(error.stack || String(error)));
