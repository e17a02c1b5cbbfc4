// Before `npm start` builds anything: Electron Forge 8 needs Node 22.13 or newer, so say so at
// once (with what to do) instead of failing after a minute of building.
const NEEDED = [22, 13];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    [
      `npm start: the desktop app needs Node ${NEEDED.join('.')} or newer (Electron Forge 8); this is Node ${process.versions.node}.`,
      'Install a newer Node (e.g. `nvm install 22`), or run Troupe without the window:',
      '  npm run demo                                   the headless demo',
      '  npx troupe run <system.yaml> --dashboard       the same window in your browser',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
