// Loaded into the Azurite process (node --require) that dev/azurite.ts starts in a process group of its
// own, so that a terminal's Ctrl-C reaches `npm start` and not Azurite: the app's running invocations
// still have their storage while they finish, and Azurite is stopped last. Without the group's signals
// Azurite needs another way to end with its parent, however the parent ends (a crash, SIGKILL): its
// stdin is a pipe from the parent, and the pipe closes when the parent goes.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
// Without keeping Azurite alive: it ends by letting its event loop empty once stopped.
process.stdin.unref();
