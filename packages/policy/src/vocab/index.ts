export {
  BOS_ID, EOS_ID, FIXED_SPECIALS, PAD_ID, SEP_ID, UNK_ID, VOCAB_ALGORITHM, VOCAB_FORMAT,
  UnknownSymbolError, UnknownTokenIdError, Vocabulary, vocabularyHash,
  type EncodeOptions, type Tokenizer, type VocabularyJSON, type VocabularySpec,
} from './vocabulary.ts';
export type { ChatRenderOptions, TextCodec, TextDecodeOptions } from './text-codec.ts';
