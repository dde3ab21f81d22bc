/**
 * ALTS record protocol constants (docs/spec.md §1, which names the upstream sources).
 *
 * Frame: len (u32 LE) ‖ type (u32 LE, = 6) ‖ ciphertext ‖ 16-byte GCM tag.
 * `len` counts type + ciphertext + tag, not itself: 24 bytes of overhead per frame.
 * @module
 */

export const LENGTH_FIELD_BYTES = 4;
export const TYPE_FIELD_BYTES = 4;
export const TAG_BYTES = 16;
/** Bytes a frame adds around its payload: length + type + tag. */
export const FRAME_OVERHEAD = LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES + TAG_BYTES; // 24
/** The only message type: the whole word (docs/spec.md §1 "Message type"). */
export const MESSAGE_TYPE = 6;
/** Largest `len` a reader accepts: 1 MiB (docs/spec.md §1 "Lengths"). */
export const MAX_FRAME_LENGTH = 1 << 20;
/** Smallest valid `len`: a type word and a tag, empty payload. */
export const MIN_FRAME_LENGTH = TYPE_FIELD_BYTES + TAG_BYTES; // 20
/** The bytes of the largest frame a reader accepts, length field included. */
export const MAX_FRAME_BYTES = LENGTH_FIELD_BYTES + MAX_FRAME_LENGTH;

/** Negotiated frame size (whole frame, length field included) a writer uses: 4 KiB..1 MiB. */
export const MIN_MAX_FRAME_SIZE = 4 * 1024;
export const MAX_MAX_FRAME_SIZE = 1 << 20;
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024;
