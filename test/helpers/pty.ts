/**
 * Run a program on a real pseudo-terminal (python3's pty module): its stdout and stderr are a
 * TTY, as in an operator's shell. Returns everything it wrote to the terminal, as bytes in a
 * string, and its exit status. The terminal is 100 columns wide.
 */
import { execa } from 'execa';

const SCRIPT = String.raw`
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 100, 0, 0))
out = bytearray()
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out.extend(chunk)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
`;

export async function onPty(
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ exitCode: number; output: string }> {
  const r = await execa('python3', ['-c', SCRIPT, ...argv], {
    reject: false,
    env,
    encoding: 'latin1',
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.stdout) };
}
