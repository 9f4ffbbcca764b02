/**
 * A small terminal emulator: enough of VT100/xterm to replay what a program wrote to a terminal of
 * a given size and see what a person would see — the screen, and the lines scrolled off its top.
 * Handles printable text with autowrap, CR, LF, BS, and the CSI sequences cursor up/down/previous
 * line/column/position and erase in display/line; other sequences are consumed and ignored.
 */
export class Terminal {
  readonly scrollback: string[] = [];
  #screen: string[][];
  #row = 0;
  #col = 0;
  /** The rest of an escape sequence split across writes. */
  #pending = '';

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.#screen = Array.from({ length: rows }, () => []);
  }

  /** The screen's lines, trailing blanks removed. */
  get screen(): string[] {
    return this.#screen.map((cells) => cells.join('').trimEnd());
  }

  /** Everything a person could scroll through: the scrollback, then the screen, trailing empty lines dropped. */
  get transcript(): string[] {
    const lines = [...this.scrollback, ...this.screen];
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  write(data: string): void {
    const text = this.#pending + data;
    this.#pending = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i] as string;
      if (c === '\x1b') {
        // eslint-disable-next-line no-control-regex
        const sequence = /^\x1b\[([0-9;?]*)([ -/]*)([@-~])/.exec(text.slice(i));
        if (sequence) {
          this.#csi(sequence[1] ?? '', sequence[3] ?? '');
          i += sequence[0].length;
          continue;
        }
        // eslint-disable-next-line no-control-regex
        if (i + 1 >= text.length || (text[i + 1] === '[' && /^\x1b\[[0-9;?]*[ -/]*$/.test(text.slice(i)))) {
          this.#pending = text.slice(i);
          return;
        }
        i += 2; // a two-character escape (ESC 7, ESC =...)
        continue;
      }
      if (c === '\r') this.#col = 0;
      else if (c === '\n') this.#lineFeed();
      else if (c === '\b') this.#col = Math.max(0, this.#col - 1);
      else if (c >= ' ') this.#put(c);
      i++;
    }
  }

  #put(c: string): void {
    if (this.#col >= this.columns) {
      this.#col = 0;
      this.#lineFeed();
    }
    const line = this.#screen[this.#row] as string[];
    while (line.length < this.#col) line.push(' ');
    line[this.#col] = c;
    this.#col++;
  }

  #lineFeed(): void {
    if (this.#row < this.rows - 1) {
      this.#row++;
      return;
    }
    this.scrollback.push((this.#screen.shift() as string[]).join('').trimEnd());
    this.#screen.push([]);
  }

  #csi(params: string, final: string): void {
    const numbers = params.replace('?', '').split(';').map((n) => Number(n) || 0);
    const n = Math.max(1, numbers[0] ?? 1);
    switch (final) {
      case 'A':
        this.#row = Math.max(0, this.#row - n);
        break;
      case 'B':
        this.#row = Math.min(this.rows - 1, this.#row + n);
        break;
      case 'F':
        this.#row = Math.max(0, this.#row - n);
        this.#col = 0;
        break;
      case 'E':
        this.#row = Math.min(this.rows - 1, this.#row + n);
        this.#col = 0;
        break;
      case 'G':
        this.#col = Math.min(this.columns - 1, n - 1);
        break;
      case 'H':
        this.#row = Math.min(this.rows - 1, Math.max(1, numbers[0] ?? 1) - 1);
        this.#col = Math.min(this.columns - 1, Math.max(1, numbers[1] ?? 1) - 1);
        break;
      case 'J': {
        const mode = numbers[0] ?? 0;
        if (mode === 0) {
          this.#screen[this.#row] = (this.#screen[this.#row] as string[]).slice(0, this.#col);
          for (let r = this.#row + 1; r < this.rows; r++) this.#screen[r] = [];
        } else if (mode === 2 || mode === 3) {
          this.#screen = Array.from({ length: this.rows }, () => []);
        }
        break;
      }
      case 'K':
        this.#screen[this.#row] = (this.#screen[this.#row] as string[]).slice(0, this.#col);
        break;
      default:
        break; // colours, cursor visibility...
    }
  }
}
