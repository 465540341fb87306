/**
 * Text in and out of a model whose tokens are a pretrained tokenizer's (an imported Hugging Face
 * model), the counterpart of the symbol `Vocabulary` for recipes that speak text: plain text and
 * chat messages to ids, ids back to text, and the ids that end a generation.
 *
 * Ids are the model's: `size` is its vocabulary size (embedding rows), which may exceed the
 * tokenizer's (Qwen pads its embedding to 151,936 rows for 151,669 tokens). A row with no token
 * can still be sampled, so `decode` is total: an id with no token decodes to U+FFFD, never throws.
 */
import type { ChatMessage } from '../hf/chat-template.ts';

export interface ChatRenderOptions {
  /** End with the header of an assistant turn for the model to complete. Default true. */
  readonly addGenerationPrompt?: boolean;
}

export interface TextDecodeOptions {
  /** Leave out the tokenizer's special tokens (`<|im_end|>`, ...). Default false. */
  readonly skipSpecialTokens?: boolean;
}

export interface TextCodec {
  /** The model's vocabulary size: every id a sample may hold is in [0, size). */
  readonly size: number;
  /** Stop ids: a generation that samples one of them has ended (the tokenizer's eos, then generation_config.json's). */
  readonly eos: readonly number[];
  /** Text to ids, without the tokenizer's added special tokens (no bos): what a prompt's text is. */
  encode(text: string): Int32Array;
  /** Ids to text; ids with no token give U+FFFD. */
  decode(ids: ArrayLike<number>, opts?: TextDecodeOptions): string;
  /** The model's chat template applied to `messages` (transformers' apply_chat_template, tokenize=False). */
  renderChat(messages: readonly ChatMessage[], opts?: ChatRenderOptions): string;
  /** The ids of the rendered chat (apply_chat_template, tokenize=True: no further special tokens added). */
  encodeChat(messages: readonly ChatMessage[], opts?: ChatRenderOptions): Int32Array;
}
