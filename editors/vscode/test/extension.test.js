'use strict';
// extension.js outside VS Code: `vscode` and `vscode-languageclient/node` are
// replaced by recording fakes, so what the client is told to start, and how
// it reacts to settings, can be checked with node's test runner.

const test = require('node:test');
const assert = require('node:assert');
const Module = require('module');
const path = require('path');

const MANIFEST = require('../package.json');

/** A fresh fake VS Code with the given kdsl.* settings and workspace folder. */
function fakeVscode({ settings = {}, folder, choice } = {}) {
  const fake = {
    settings: { ...settings },
    listeners: [],
    commands: {},
    executed: [],
    errors: [],
    visibleTextEditors: [],
  };
  fake.module = {
    workspace: {
      getConfiguration: (section) => {
        assert.strictEqual(section, 'kdsl');
        return { get: (key, fallback) => (key in fake.settings ? fake.settings[key] : fallback) };
      },
      workspaceFolders: folder ? [{ uri: { fsPath: folder } }] : undefined,
      onDidChangeConfiguration: (listener) => {
        fake.listeners.push(listener);
        return { dispose() {} };
      },
    },
    commands: {
      registerCommand: (id, handler) => {
        fake.commands[id] = handler;
        return { dispose() {} };
      },
      executeCommand: async (...args) => {
        fake.executed.push(args);
      },
    },
    window: {
      showErrorMessage: async (message, ...items) => {
        fake.errors.push({ message, items });
        return choice;
      },
      get visibleTextEditors() {
        return fake.visibleTextEditors;
      },
    },
  };
  /** Tell the extension that settings changed. */
  fake.change = (...keys) =>
    Promise.all(fake.listeners.map((l) => l({ affectsConfiguration: (key) => keys.includes(key) })));
  return fake;
}

/** A LanguageClient stand-in that records how it was made and used. */
function fakeClientModule({ failStart } = {}) {
  const made = [];
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, started: 0, stopped: 0, fired: [] });
      made.push(this);
    }
    async start() {
      this.started += 1;
      if (failStart) {
        throw new Error('spawn kdsl ENOENT');
      }
    }
    async stop() {
      this.stopped += 1;
    }
    getFeature(method) {
      assert.strictEqual(method, 'textDocument/inlayHint');
      return {
        getProvider: (document) => ({ onDidChangeInlayHints: { fire: () => this.fired.push(document.uri) } }),
      };
    }
  }
  return { made, module: { LanguageClient } };
}

/** Load a fresh copy of extension.js wired to the fakes. */
function loadExtension(vscode, client) {
  const file = require.resolve('../extension.js');
  delete require.cache[file];
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    if (request === 'vscode') return vscode.module;
    if (request === 'vscode-languageclient/node') return client.module;
    return originalLoad.call(this, request, parent, isMain);
  };
  try {
    return require(file);
  } finally {
    Module._load = originalLoad;
  }
}

async function activated(options = {}, clientOptions = {}) {
  const vscode = fakeVscode(options);
  const client = fakeClientModule(clientOptions);
  const extension = loadExtension(vscode, client);
  await extension.activate({ subscriptions: [] });
  return { vscode, client, extension };
}

test('activation starts `kdsl lsp` over stdio for kd documents', async () => {
  const { client } = await activated();
  assert.strictEqual(client.made.length, 1);
  const [started] = client.made;
  assert.strictEqual(started.id, 'kdsl'); // the prefix under which the client reads kdsl.trace.server
  assert.strictEqual(started.serverOptions.command, 'kdsl');
  assert.deepStrictEqual(started.serverOptions.args, ['lsp']);
  assert.strictEqual(started.serverOptions.transport, undefined); // a transport would add --stdio
  assert.deepStrictEqual(
    started.clientOptions.documentSelector.map((s) => s.language),
    ['kd', 'kd'],
  );
  assert.strictEqual(started.started, 1);
});

test('kdsl.path is used, with ${workspaceFolder} expanded and the folder as working directory', async () => {
  const { client } = await activated({ settings: { path: '${workspaceFolder}/.venv/bin/kdsl' }, folder: '/proj' });
  assert.strictEqual(client.made[0].serverOptions.command, '/proj/.venv/bin/kdsl');
  assert.strictEqual(client.made[0].serverOptions.options.cwd, '/proj');
});

test('resolveCommand expands ~ and falls back to kdsl for an empty setting', () => {
  const { extension } = { extension: loadExtension(fakeVscode(), fakeClientModule()) };
  assert.strictEqual(extension.resolveCommand('~/bin/kdsl', undefined, '/home/me'), path.join('/home/me', 'bin/kdsl'));
  assert.strictEqual(extension.resolveCommand('  ', undefined), 'kdsl');
  assert.strictEqual(extension.resolveCommand(undefined, undefined), 'kdsl');
  assert.strictEqual(extension.resolveCommand('/opt/kdsl/bin/kdsl', '/proj'), '/opt/kdsl/bin/kdsl');
});

test('inlay hints come from the server only while kdsl.inlayHints.enabled is on', async () => {
  const { vscode, client } = await activated();
  const middleware = client.made[0].clientOptions.middleware;
  const calls = [];
  const next = (document, range) => {
    calls.push([document, range]);
    return ['hint'];
  };
  assert.deepStrictEqual(middleware.provideInlayHints('doc', 'range', undefined, next), ['hint']);
  vscode.settings['inlayHints.enabled'] = false;
  assert.deepStrictEqual(middleware.provideInlayHints('doc', 'range', undefined, next), []);
  assert.strictEqual(calls.length, 1);
});

test('turning inlay hints off refreshes the kd editors only', async () => {
  const { vscode, client } = await activated();
  vscode.visibleTextEditors = [
    { document: { languageId: 'kd', uri: 'a.kd' } },
    { document: { languageId: 'python', uri: 'b.py' } },
  ];
  vscode.settings['inlayHints.enabled'] = false;
  await vscode.change('kdsl.inlayHints.enabled');
  assert.deepStrictEqual(client.made[0].fired, ['a.kd']);
  assert.strictEqual(client.made.length, 1); // no restart for this setting
});

test('a new kdsl.path stops the server and starts the new command', async () => {
  const { vscode, client } = await activated();
  vscode.settings.path = '/usr/local/bin/kdsl';
  await vscode.change('kdsl.path');
  assert.strictEqual(client.made.length, 2);
  assert.strictEqual(client.made[0].stopped, 1);
  assert.strictEqual(client.made[1].serverOptions.command, '/usr/local/bin/kdsl');
  assert.strictEqual(client.made[1].started, 1);
});

test('other settings leave the server alone', async () => {
  const { vscode, client } = await activated();
  await vscode.change('editor.fontSize');
  assert.strictEqual(client.made.length, 1);
  assert.strictEqual(client.made[0].stopped, 0);
});

test('the restart command is registered under the id package.json contributes', async () => {
  const { vscode, client } = await activated();
  const contributed = MANIFEST.contributes.commands.map((c) => c.command);
  assert.deepStrictEqual(Object.keys(vscode.commands), contributed);
  await vscode.commands['kdsl.restartServer']();
  assert.strictEqual(client.made.length, 2);
  assert.strictEqual(client.made[0].stopped, 1);
});

test('a server that cannot start is reported once, with a way to the setting', async () => {
  const { vscode, extension } = await activated({ choice: 'Open Settings' }, { failStart: true });
  assert.strictEqual(vscode.errors.length, 1);
  assert.match(vscode.errors[0].message, /kdsl lsp/);
  assert.match(vscode.errors[0].message, /kdsl\.path/);
  assert.deepStrictEqual(vscode.executed, [['workbench.action.openSettings', 'kdsl.path']]);
  assert.strictEqual(extension.currentClient(), undefined);
});

test('deactivation stops the server', async () => {
  const { client, extension } = await activated();
  await extension.deactivate();
  assert.strictEqual(client.made[0].stopped, 1);
  assert.strictEqual(extension.currentClient(), undefined);
});

test('the settings the extension reads are the ones package.json declares, with their defaults', () => {
  const properties = MANIFEST.contributes.configuration.properties;
  assert.strictEqual(properties['kdsl.path'].default, 'kdsl');
  assert.strictEqual(properties['kdsl.inlayHints.enabled'].default, true);
  assert.deepStrictEqual(properties['kdsl.trace.server'].enum, ['off', 'messages', 'verbose']);
});
