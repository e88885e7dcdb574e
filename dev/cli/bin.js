#!/usr/bin/env node
// The `entra-mfa-reset` command from a clone: runs the TypeScript CLI through tsx (a dev dependency).
require('tsx/cjs');
require('./main.ts');
