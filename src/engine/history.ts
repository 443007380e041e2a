import { readLayerRecord } from '../storage/layout';
import { humanDuration, humanSize, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import type { Engine } from './context';
import { mustFindImage } from './images';

/** One entry of an image config's history (OCI image-spec). */
interface HistoryEntry { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }

export interface HistoryItem { id: string; created: number; createdBy: string; size: number; comment: string }

/**
 * Docker's ImageHistory: one item per history entry, newest first; entries that made a layer
 * get that layer's size, in order. Only the newest item names the image: Docker shows the
 * others as <missing> because pulled and loaded images carry no parent image IDs.
 */
export function historyItems(id: string, history: HistoryEntry[], layerSizes: number[]): HistoryItem[] {
  const sizes = [...layerSizes];
  const items = history.map((h) => ({
    id: '<missing>',
    created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
    createdBy: h.created_by ?? '',
    size: h.empty_layer ? 0 : sizes.shift() ?? 0,
    comment: h.comment ?? '',
  })).reverse();
  if (items.length) items[0].id = id;
  return items;
}

/** docker-cli's stringutils.Ellipsis: cut to `max` characters, the last one being "…". */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Go's time.RFC3339 in local time. */
export function rfc3339(seconds: number): string {
  const d = new Date(seconds * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60000).toISOString().slice(0, 19);
  if (off === 0) return `${local}Z`;
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  return `${local}${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

export interface HistoryOptions { human: boolean; noTrunc: boolean }

export const HISTORY_HEADERS = {
  Comment: 'COMMENT', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', CreatedSince: 'CREATED', ID: 'IMAGE', Size: 'SIZE',
};

/** Rows for the Go template, as docker-cli's historyContext (keys sorted for {{json .}}). */
export function historyRows(items: HistoryItem[], o: HistoryOptions, now = Date.now()): object[] {
  return items.map((h) => goStruct({
    Comment: h.comment,
    CreatedAt: rfc3339(h.created),
    CreatedBy: o.noTrunc ? h.createdBy.replace(/\t/g, ' ') : ellipsis(h.createdBy.replace(/\t/g, ' '), 45),
    CreatedSince: o.human ? `${humanDuration(now - h.created * 1000)} ago` : rfc3339(h.created),
    ID: o.noTrunc || h.id === '<missing>' ? h.id : shortId(h.id),
    Size: o.human ? humanSize(h.size) : String(h.size),
  }, '*formatter.historyContext'));
}

/** `skiff history IMAGE`: its rows, newest first. */
export function imageHistory(engine: Engine, name: string, o: HistoryOptions, now = Date.now()): object[] {
  const image = mustFindImage(engine, name);
  const sizes = image.chainIds.map((c) => readLayerRecord(engine.paths.dataRoot, c)?.size ?? 0);
  const history = (image.config.history ?? []) as HistoryEntry[];
  return historyRows(historyItems(image.id, history, sizes), o, now);
}

export const HISTORY_DEFAULT_FORMAT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
