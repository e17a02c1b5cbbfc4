// What a model is made of on disk: an .onnx file, or (an LLM) a folder of files. Its hash names
// it in journals; its listing is what a node fetches when the model is shipped to it.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const READ_BYTES = 1024 * 1024;

/** One file, or a folder's regular files (links followed) as sorted relative paths with "/". */
export function modelFiles(path: string): { kind: 'file' | 'folder'; files: string[] } {
  if (!statSync(path).isDirectory()) return { kind: 'file', files: [basename(path)] };
  return { kind: 'folder', files: walk(path, '') };
}

function walk(root: string, prefix: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, prefix)).sort()) {
    const relative = prefix ? `${prefix}/${entry}` : entry;
    const stats = statSync(join(root, relative));
    if (stats.isDirectory()) files.push(...walk(root, relative));
    else if (stats.isFile()) files.push(relative);
  }
  return files;
}

/** `length` bytes of a file from `offset` (fewer at its end), read without loading the rest. */
export function readFileAt(path: string, offset: number, length: number): Uint8Array {
  const bytes = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    let read = 0;
    while (read < length) {
      const n = readSync(fd, bytes, read, length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return bytes.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** SHA-256 (hex) of a file, read a megabyte at a time. */
export function hashFile(path: string): string {
  const hash = createHash('sha256');
  const size = statSync(path).size;
  for (let offset = 0; offset < size; offset += READ_BYTES)
    hash.update(readFileAt(path, offset, Math.min(READ_BYTES, size - offset)));
  return hash.digest('hex');
}

/**
 * SHA-256 (hex) of a model: of its file, or of its folder's listing in `sha256sum` form (each
 * file's hash and relative path, one a line), so any file changed, added or renamed changes it.
 */
export function modelHash(path: string): string {
  const { kind, files } = modelFiles(path);
  if (kind === 'file') return hashFile(path);
  const lines = files.map((file) => `${hashFile(join(path, file))}  ${file}\n`).join('');
  return createHash('sha256').update(lines).digest('hex');
}
