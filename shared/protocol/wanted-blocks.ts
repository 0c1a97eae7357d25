// The relay re-upload protocol: which dropped blocks a holder is asked to upload again, and how a fetch says one is awaited.
import { z } from "zod";
import { HashSchema } from "./entry.ts";
import { STORAGE_POLICIES } from "./shares.ts";

/**
 * Set on a `GET /v1/blocks` answer that left out blocks a relay share dropped: the hub recorded a re-upload request
 * for them (value `requested`). The blocks are not an error: ask again once a member that holds them uploaded them.
 */
export const REUPLOAD_HEADER = "x-fleetsync-reupload";
export const REUPLOAD_REQUESTED = "requested";

/** `GET /v1/shares/:share/wanted-blocks?wait=S`: what a source or peer should read from its files and upload again. */
export const WantedBlocksResponseSchema = z.strictObject({
  /** A `full` share never asks (its hub keeps every current block): the asker may stop asking. */
  storage: z.enum(STORAGE_POLICIES),
  /** Each block with a path of the share whose current content has it. */
  blocks: z.array(z.strictObject({ hash: HashSchema, path: z.string().min(1) })),
});
export type WantedBlocksResponse = z.infer<typeof WantedBlocksResponseSchema>;
