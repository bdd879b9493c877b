'use strict';
// The TextMate grammar has one source, editors/textmate/kd.tmLanguage.json
// (generated from grammar/kd.lark). vsce packages only files inside this
// folder, so the build copies it to syntaxes/ (ignored by git) before packaging.

const fs = require('fs');
const path = require('path');

const source = path.join(__dirname, '..', '..', 'textmate', 'kd.tmLanguage.json');
const target = path.join(__dirname, '..', 'syntaxes', 'kd.tmLanguage.json');

JSON.parse(fs.readFileSync(source, 'utf8')); // refuse to package a broken grammar
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.copyFileSync(source, target);
