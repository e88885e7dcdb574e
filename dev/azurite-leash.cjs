// Loaded into every Azurite process that dev/azurite.ts starts (node --require): it ends Azurite when
// its parent goes, however the parent ends (a crash, SIGKILL). Under `npm start` Azurite runs in a
// process group of its own, so that a terminal's Ctrl-C reaches `npm start` and not Azurite (running
// invocations keep their storage while they finish, and Azurite is stopped last); no group signal
// reaches it then, so it watches its stdin, a pipe from the parent that closes when the parent goes.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
// Without keeping Azurite alive: it ends by letting its event loop empty once stopped.
process.stdin.unref();
