/**
 * spar's symbol vocabulary as a Hugging Face tokenizer (tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json) that encodes every text to the ids `Vocabulary.encode` gives and
 * decodes ids to the text `Vocabulary.decode` gives.
 *
 * How the tokenizers library reproduces greedy longest match:
 * - Every token (specials and symbols) is an added token with `normalized: false`. Added tokens
 *   are cut out of the text first, in one pass, leftmost-longest (Rust: an Aho-Corasick automaton
 *   with MatchKind::LeftmostLongest; tokenizers.js: a trie tried longest-first at each position):
 *   at each position the longest token starting there, else the next position. That is spar's
 *   loop, specials included (spar matches them in text like symbols).
 * - What no token covers is split into single code points (pre-tokenizer Split on `[\s\S]`,
 *   Isolated), which the WordLevel model maps to `<unk>`: one `<unk>` per code point, as spar.
 * - No normalizer, no post-processor (spar adds no `<bos>`), and a Fuse decoder (tokens are
 *   concatenated, no spaces); tokenizer_config.json turns off clean_up_tokenization_spaces.
 * The fixed specials keep their roles: `<bos>`, `<eos>`, `<pad>`, `<unk>` and `<sep>` are the
 * tokenizer's bos/eos/pad/unk/sep tokens, the recipe's declared specials additional ones; all of
 * them are `special` (skipped by decode with skip_special_tokens), the symbols are not.
 */
import { BOS_ID, EOS_ID, PAD_ID, SEP_ID, UNK_ID, type Vocabulary } from '../vocab/vocabulary.ts';
import { HF_SPECIAL_TOKENS_FILE, HF_TOKENIZER_CONFIG_FILE, HF_TOKENIZER_FILE } from './tokenizer.ts';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** The three tokenizer files of `vocab` (file name → content); `context` is model_max_length. */
export function vocabularyTokenizerFiles(vocab: Vocabulary, context: number): Record<string, string> {
  const { specials, symbols } = vocab.toJSON();
  const tokens = [...specials, ...symbols];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tokens.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: id < specials.length,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab: Object.fromEntries(tokens.map((t, id) => [t, id])), unk_token: tokens[UNK_ID] },
  };
  const named = {
    bos_token: tokens[BOS_ID], eos_token: tokens[EOS_ID], unk_token: tokens[UNK_ID], sep_token: tokens[SEP_ID], pad_token: tokens[PAD_ID],
    additional_special_tokens: specials.slice(UNK_ID + 1),
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...named,
    clean_up_tokenization_spaces: false,
    model_max_length: context,
    spar_vocabulary_sha256: vocab.sha256,
  };
  return { [HF_TOKENIZER_FILE]: json(tokenizer), [HF_TOKENIZER_CONFIG_FILE]: json(config), [HF_SPECIAL_TOKENS_FILE]: json(named) };
}
