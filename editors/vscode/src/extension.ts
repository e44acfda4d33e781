// The etr extension: starts the etr language server (`etr lsp`) over stdio and connects VS Code
// to it. Everything the editor does for a spec (diagnostics, hover, completion, navigation,
// formatting, quick fixes) comes from the server; this file only starts, restarts and stops it.

import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("etr.restartServer", async () => {
      await stopServer();
      await startServer();
    }),
    // A new server path or new arguments only take effect in a new server process.
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("etr.server")) {
        await stopServer();
        await startServer();
      }
    }),
  );
  await startServer();
}

export async function deactivate(): Promise<void> {
  await stopServer();
}

async function startServer(): Promise<void> {
  const settings = vscode.workspace.getConfiguration("etr");
  const command = settings.get<string>("server.path", "etr");
  const args = settings.get<string[]>("server.extraArgs", ["lsp"]);
  const executable = { command, args, transport: TransportKind.stdio };
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "etr" },
      { scheme: "untitled", language: "etr" },
    ],
  };
  client = new LanguageClient("etr", "etr language server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    // The usual cause is a missing `etr` program: say how to fix it rather than only failing.
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(
      `Could not start the etr language server with "${command} ${args.join(" ")}": ${message}. ` +
        "Install etr (cargo install --path runtime/cli) or set etr.server.path to the etr program.",
    );
  }
}

async function stopServer(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    await running.stop();
  }
}
