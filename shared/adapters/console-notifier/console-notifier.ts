import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { SlackBlock, SlackMessage } from "#domain/alerts/slack-message.ts";
import { type Clock, systemClock } from "#ports/clock.ts";
import type { Notifier, PostedMessage } from "#ports/notifier.ts";

export interface ConsoleNotifierOptions {
  /** Where each message is appended as one JSON line; none writes no file. */
  file?: string;
  /** Where the readable block goes. Default: standard output. */
  write?: (text: string) => void;
  clock?: Clock;
}

/** Slack mrkdwn as plain text: links as "label (url)", no bold markers, entities decoded. */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, "$2 ($1)")
    .replace(/\*([^*\n]+)\*/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function blockLines(block: SlackBlock): string[] {
  if (block.type === "header") return [block.text.text];
  if (block.type === "context") return block.elements.map((e) => mrkdwnToPlain(e.text));
  const fields = (block.fields ?? []).map((f) => mrkdwnToPlain(f.text).replace("\n", ": "));
  return [
    ...(fields.length === 0 ? [] : [fields.join(" | ")]),
    ...(block.text ? [mrkdwnToPlain(block.text.text)] : []),
  ];
}

/** The message as a person reads it in a terminal, framed by the channel and what happened. */
export function renderForConsole(what: string, posted: PostedMessage, message: SlackMessage): string {
  const blocks = [...message.blocks, ...message.attachments.flatMap((a) => a.blocks)];
  const rule = "─".repeat(8);
  const lines = blocks.flatMap(blockLines).map((line) => `│ ${line.replace(/\n/g, "\n│ ")}`);
  return [`┌${rule} ${what} ${posted.channel} (ts ${posted.ts}) ${rule}`, ...lines, `└${rule}`].join("\n");
}

/**
 * The local notifier when no Slack token is set: each message as one readable block on the console
 * and one JSON line in a file. Message timestamps look like Slack's ("1700000000.000001").
 */
export function createConsoleNotifier(options: ConsoleNotifierOptions = {}): Notifier {
  const write = options.write ?? ((text: string) => process.stdout.write(`${text}\n`));
  const clock = options.clock ?? systemClock;
  let sequence = 0;
  let tail: Promise<unknown> = Promise.resolve();

  function nextTs(): string {
    sequence += 1;
    return `${Math.floor(clock.now().getTime() / 1000)}.${String(sequence).padStart(6, "0")}`;
  }

  async function emit(action: "post" | "update", posted: PostedMessage, message: SlackMessage) {
    write(renderForConsole(action === "post" ? "posted to" : "updated in", posted, message));
    const file = options.file;
    if (file === undefined) return posted;
    const line = `${JSON.stringify({ at: clock.now().toISOString(), action, ...posted, ...message })}\n`;
    const appended = tail.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      await appendFile(file, line, "utf8");
    });
    tail = appended.catch(() => undefined);
    await appended;
    return posted;
  }

  return {
    post: (channel, message) => emit("post", { channel, ts: nextTs() }, message),
    update: (channel, ts, message) => emit("update", { channel, ts }, message),
  };
}
