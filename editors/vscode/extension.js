'use strict';
// The VS Code side of kd: starts `<kdsl.path> lsp` (the kdsl language server,
// LSP over its standard input and output) and hands it the kd documents.
// Highlighting and snippets are static contributions of package.json and work
// without the server; when it cannot be started the user is told once.

const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

// The client id is also the settings' prefix: vscode-languageclient reads
// `kdsl.trace.server` by itself.
const CLIENT_ID = 'kdsl';
const CLIENT_NAME = 'kd language server';
const INLAY_HINT_METHOD = 'textDocument/inlayHint';

let client;

/** The `kdsl` settings section. */
function settings() {
  return vscode.workspace.getConfiguration(CLIENT_ID);
}

/**
 * The command to run for `kdsl.path`: `${workspaceFolder}` and a leading `~`
 * are expanded (VS Code does not expand variables in settings); a bare name
 * is left for the system to find on PATH.
 */
function resolveCommand(setting, workspaceFolder, home = os.homedir()) {
  let command = (setting || '').trim() || 'kdsl';
  if (command.includes('${workspaceFolder}')) {
    command = command.split('${workspaceFolder}').join(workspaceFolder || '.');
  }
  if (command === '~' || command.startsWith('~/')) {
    command = path.join(home, command.slice(1));
  }
  return command;
}

/** The first workspace folder's path, if a folder is open. */
function firstWorkspaceFolder() {
  const folders = vscode.workspace.workspaceFolders;
  return folders && folders.length > 0 ? folders[0].uri.fsPath : undefined;
}

/**
 * How to start the server: `<kdsl.path> lsp`, spoken to over stdio. No
 * `transport` is given on purpose: with one, vscode-languageclient would
 * append `--stdio` to the arguments, which `kdsl lsp` does not take.
 */
function serverOptions() {
  const folder = firstWorkspaceFolder();
  const command = resolveCommand(settings().get('path'), folder);
  return { command, args: ['lsp'], options: folder ? { cwd: folder } : {} };
}

/** Whether `kdsl.inlayHints.enabled` is on (it is by default). */
function inlayHintsEnabled() {
  return settings().get('inlayHints.enabled', true) !== false;
}

/** Which documents the server gets, and the inlay-hint switch. */
function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: 'kd' },
      { scheme: 'untitled', language: 'kd' },
    ],
    // The server is told about changes of the kdsl.* settings.
    synchronize: { configurationSection: CLIENT_ID },
    initializationOptions: { inlayHints: { enabled: inlayHintsEnabled() } },
    middleware: {
      // Decided here rather than by the server, so the switch works whatever the server does.
      provideInlayHints: (document, range, token, next) => (inlayHintsEnabled() ? next(document, range, token) : []),
    },
  };
}

/** Start a client for the current settings; tell the user once if the server cannot start. */
async function startClient() {
  const options = serverOptions();
  const started = new LanguageClient(CLIENT_ID, CLIENT_NAME, options, clientOptions());
  client = started;
  try {
    await started.start();
  } catch (error) {
    if (client === started) {
      client = undefined;
    }
    const reason = error && error.message ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `kd: could not start \`${options.command} lsp\` (${reason}). Install kdsl or set "kdsl.path".`,
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'kdsl.path');
    }
  }
  return started;
}

/** Stop the running client, if any. */
async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      // A server that died already cannot be stopped; nothing is left to do.
    }
  }
}

/** Stop and start again, e.g. after `kdsl.path` changed. */
async function restartClient() {
  await stopClient();
  return startClient();
}

/** Ask VS Code to fetch the inlay hints of the open kd editors again. */
function refreshInlayHints() {
  if (!client) {
    return;
  }
  const feature = client.getFeature(INLAY_HINT_METHOD);
  if (!feature) {
    return;
  }
  for (const editor of vscode.window.visibleTextEditors) {
    if (editor.document.languageId !== 'kd') {
      continue;
    }
    const provider = feature.getProvider(editor.document);
    if (provider && provider.onDidChangeInlayHints) {
      provider.onDidChangeInlayHints.fire();
    }
  }
}

/** React to a settings change: a new command means a new server. */
function onConfigurationChanged(event) {
  if (event.affectsConfiguration('kdsl.path')) {
    return restartClient();
  }
  if (event.affectsConfiguration('kdsl.inlayHints.enabled')) {
    refreshInlayHints();
  }
  return undefined;
}

/** Entry point: VS Code calls it when a kd file is opened. */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('kdsl.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
  );
  await startClient();
}

/** Entry point: VS Code calls it on shutdown; the server process is stopped. */
function deactivate() {
  return stopClient();
}

module.exports = {
  activate,
  deactivate,
  // For the unit tests (test/extension.test.js).
  resolveCommand,
  serverOptions,
  clientOptions,
  currentClient: () => client,
};
