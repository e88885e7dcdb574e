/**
 * Shortens text for a table cell or a CSV export at a word boundary, with an ellipsis, so that a reader
 * never mistakes a cut word for the message's end ("...the user is a mem"). A single word longer than
 * the room (a URL, an id) is cut where it must be.
 */
export function clipAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = Math.max(1, max - 1);
  const cut = text.slice(0, room + 1);
  const boundary = cut.search(/\s\S*$/);
  const end = boundary >= Math.floor(room / 2) ? boundary : room;
  return `${text.slice(0, end).replace(/[\s,;:.-]+$/, '')}…`;
}
