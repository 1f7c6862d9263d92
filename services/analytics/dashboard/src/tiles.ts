import { esc } from './format.js'

export interface Tile {
  id: string
  label: string
  /** Shown text. */
  text: string
  /** The API's raw number (data-value), for tests and tooltips. */
  value?: number | string | null
  note?: string
  warn?: boolean
}

export function tilesHtml(tiles: Tile[]): string {
  return tiles
    .map(
      (t) => `<div class="tile${t.warn ? ' warn' : ''}" data-tile="${esc(t.id)}"${
        t.value === undefined ? '' : ` data-value="${esc(String(t.value))}"`
      }>
  <dt>${esc(t.label)}</dt><dd>${esc(t.text)}${t.note ? ` <small>${esc(t.note)}</small>` : ''}</dd>
</div>`,
    )
    .join('')
}
