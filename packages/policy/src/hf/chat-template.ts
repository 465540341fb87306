/**
 * A Hugging Face model's own chat template, rendered with @huggingface/jinja the way
 * transformers' `apply_chat_template` renders it with Python's Jinja2: trim_blocks and
 * lstrip_blocks on, and the variables
 *
 *   messages, tools (null when not given), documents (null when not given),
 *   add_generation_prompt, bos_token / eos_token / unk_token / pad_token /
 *   additional_special_tokens (only those the tokenizer sets), then the caller's extra
 *   variables (enable_thinking, ...), which win over the above.
 *
 * Where the template comes from (transformers' order): a `chat_template.jinja` file in the
 * folder, else `chat_template` in tokenizer_config.json — a string, or a list of
 * `{ name, template }` of which `default` is used unless another name is asked for.
 */
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from '../errors.ts';

/** One chat turn; extra fields (reasoning_content, tool_calls, name, ...) reach the template. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
  readonly [field: string]: unknown;
}

export interface ChatTemplateOptions {
  /** End with the header of an assistant turn for the model to complete. Default false. */
  readonly addGenerationPrompt?: boolean;
  /**
   * Templates that know it (Qwen3) open the generation prompt with an empty think block when
   * false. Left undefined, the variable is not passed at all (`enable_thinking is defined` is
   * false), as transformers leaves it.
   */
  readonly enableThinking?: boolean;
  readonly tools?: readonly unknown[];
  readonly documents?: readonly unknown[];
  /** Which of several named templates to use (tokenizer_config.json's list form). */
  readonly templateName?: string;
  /** More template variables, passed last (they override everything above). */
  readonly variables?: Readonly<Record<string, unknown>>;
}

/** The templates a tokenizer folder ships, by name (`default` for a single one). */
export type ChatTemplates = ReadonlyMap<string, string>;

/**
 * The templates of a tokenizer_config.json `chat_template` value, or of a chat_template.jinja
 * file's text. Throws (with `where`) on a value that is neither a string nor a list of
 * `{ name, template }`.
 */
export function parseChatTemplates(value: unknown, where: string): ChatTemplates {
  if (value === undefined || value === null) return new Map();
  if (typeof value === 'string') return new Map([['default', value]]);
  if (Array.isArray(value)) {
    const out = new Map<string, string>();
    for (const entry of value as unknown[]) {
      const { name, template } = (entry ?? {}) as { name?: unknown; template?: unknown };
      if (typeof name !== 'string' || typeof template !== 'string') {
        throw new ChatTemplateError('missing', `${where}: chat_template list entries must be { name: string, template: string }`);
      }
      out.set(name, template);
    }
    return out;
  }
  throw new ChatTemplateError('missing', `${where}: chat_template must be a string or a list of { name, template }`);
}

/** Compiles each template once, on first use. */
export class ChatTemplateRenderer {
  readonly #templates: ChatTemplates;
  readonly #specials: Readonly<Record<string, unknown>>;
  readonly #where: string;
  readonly #compiled = new Map<string, Template>();

  /** `specials`: bos_token, eos_token, ... as transformers' special_tokens_map holds them. */
  constructor(templates: ChatTemplates, specials: Readonly<Record<string, unknown>>, where: string) {
    this.#templates = templates;
    this.#specials = specials;
    this.#where = where;
  }

  get names(): string[] {
    return [...this.#templates.keys()];
  }

  render(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    const template = this.#template(opts.templateName ?? 'default');
    const variables: Record<string, unknown> = {
      messages,
      tools: opts.tools ?? null,
      documents: opts.documents ?? null,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      ...this.#specials,
      ...(opts.enableThinking === undefined ? {} : { enable_thinking: opts.enableThinking }),
      ...opts.variables,
    };
    try {
      return template.render(variables);
    } catch (e) {
      throw new ChatTemplateError('render', `chat template of ${this.#where} failed: ${(e as Error).message}`);
    }
  }

  #template(name: string): Template {
    const cached = this.#compiled.get(name);
    if (cached) return cached;
    const source = this.#templates.get(name);
    if (source === undefined) {
      throw new ChatTemplateError('missing', this.#templates.size === 0
        ? `${this.#where} has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json)`
        : `${this.#where} has no chat template named ${JSON.stringify(name)} (it has ${this.names.map((n) => JSON.stringify(n)).join(', ')})`);
    }
    let compiled: Template;
    try {
      compiled = new Template(source);
    } catch (e) {
      throw new ChatTemplateError('render', `chat template ${JSON.stringify(name)} of ${this.#where} does not parse: ${(e as Error).message}`);
    }
    this.#compiled.set(name, compiled);
    return compiled;
  }
}
