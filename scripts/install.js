#!/usr/bin/env node
// `npm install`'s step for libbpf-node (package.json "install"). Quiet when there is nothing
// to do; one line when there is something to say.
//  - A prebuilt addon loads (prebuilds/<platform>-<arch>/, or an earlier build): nothing to do.
//  - In a clone of the repository: says which command builds everything (`npm run setup` builds
//    the addon, the BPF objects and dist/; `npm test` and `npm run demo` run it for you).
//  - An installed package on a platform without a prebuild, or `--build-from-source`: builds the
//    addon from the libbpf, libelf and zlib sources shipped in the package (a C/C++ compiler,
//    make and python3 are needed; no apt, no network). LIBBPF_NODE_SYSTEM_LIBBPF=1 links the
//    system's libbpf (>= 1.1, through pkg-config) instead.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const say = (line) => console.log(`libbpf-node: ${line}`);
const fromSource = /^(1|true)$/.test(process.env.npm_config_build_from_source || '') || process.env.LIBBPF_NODE_SYSTEM_LIBBPF === '1';

if (!fromSource) {
  try {
    require('node-gyp-build')(root);
    process.exit(0);
  } catch {
    // no usable binary: see below
  }
}

if (existsSync(join(root, '.ci', 'setup.sh'))) {
  say('in a clone: run `npm run setup` to build the addon, the BPF objects and dist/ (`npm test` and `npm run demo` run it first)');
  process.exit(0);
}

/** node-gyp: npm's own (npm_config_node_gyp), else an installed one, else from PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

const [cmd, ...pre] = nodeGyp();
const args = [...pre, 'rebuild', '--loglevel=error'];
if (process.env.LIBBPF_NODE_SYSTEM_LIBBPF === '1') args.push('--use_system_libbpf=true');
say(`building the addon for ${process.platform}-${process.arch} from source (about a minute)...`);
const started = Date.now();
const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0) {
  say('building the addon failed (see above). It needs a C/C++ compiler, make and python3.');
  process.exit(r.status || 1);
}
say(`addon built in ${Math.round((Date.now() - started) / 1000)} s`);
