// The composer: free text while the window is open; a template picker (or a parked reply) after.
import {
  useEffect,
  useMemo,
  useRef,
  useState,
  type SyntheticEvent,
  type KeyboardEvent,
} from 'react';
import {
  ApiError,
  api,
  query,
  type ConversationItem,
  type Eligibility,
  type TemplatePreview,
  type TemplateSummary,
  type TranscriptItem,
} from '../api.ts';
import {
  buttonUrl,
  complete,
  componentsOf,
  formOf,
  type FormValues,
  type HeaderMedia,
} from './template-form.ts';

interface Canned {
  id: string;
  title: string;
  shortcut: string | null;
  text: string;
}

const newKey = () =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random()}`;

function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'window_closed')
      return 'The 24-hour window has closed: only a template can be sent now.';
    return error.detail;
  }
  return 'The message could not be sent. Try again.';
}

export function Composer({
  conversation,
  quote,
  onClearQuote,
  onSent,
}: {
  conversation: ConversationItem;
  quote: TranscriptItem | null;
  onClearQuote: () => void;
  onSent: () => void;
}) {
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  if (!conversation.window.open && mode === 'reply')
    return (
      <div className="composer closed" aria-label="Composer">
        <div className="composer-tabs" role="tablist" aria-label="Composer mode">
          <button type="button" role="tab" aria-selected="true">
            Template
          </button>
          <button type="button" role="tab" aria-selected="false" onClick={() => setMode('note')}>
            Internal note
          </button>
        </div>
        <p className="window-closed-note" role="status">
          The customer has not written in the last 24 hours, so WhatsApp only accepts an approved
          template. Pick one below, or park your reply until the customer answers.
        </p>
        <TemplatePicker conversation={conversation} onSent={onSent} />
      </div>
    );
  return (
    <div className={`composer ${mode}`} aria-label="Composer">
      <div className="composer-tabs" role="tablist" aria-label="Composer mode">
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'reply'}
          onClick={() => setMode('reply')}
        >
          {conversation.window.open ? 'Reply' : 'Template'}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'note'}
          onClick={() => setMode('note')}
        >
          Internal note
        </button>
      </div>
      {mode === 'note' ? (
        <NoteForm conversationId={conversation.id} onSent={onSent} />
      ) : (
        <TextForm
          conversation={conversation}
          quote={quote}
          onClearQuote={onClearQuote}
          onSent={onSent}
        />
      )}
    </div>
  );
}

/** A file chosen in the composer: its preview, and its upload once it has one. */
interface Attachment {
  file: File;
  url: string | null;
  uploaded?: { id: string; type: string };
}

function TextForm({
  conversation,
  quote,
  onClearQuote,
  onSent,
}: {
  conversation: ConversationItem;
  quote: TranscriptItem | null;
  onClearQuote: () => void;
  onSent: () => void;
}) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [canned, setCanned] = useState<Canned[]>([]);
  const file = useRef<HTMLInputElement | null>(null);
  const [attachment, setAttachment] = useState<Attachment | null>(null);

  useEffect(() => {
    api
      .get<{ items: Array<Record<string, unknown>> }>('/v1/canned-responses')
      .then((r) =>
        setCanned(
          r.items.map((c) => ({
            id: String(c.id),
            title: [c.title, c.shortcut, c.name, c.id].find((v) => typeof v === 'string') ?? '',
            shortcut: typeof c.shortcut === 'string' ? c.shortcut : null,
            text: [c.text, c.body].find((v) => typeof v === 'string') ?? '',
          })),
        ),
      )
      .catch(() => setCanned([]));
  }, []);

  const envelope = () => ({
    channelId: conversation.channelId,
    to: conversation.contact.phone,
    ...(quote ? { replyTo: quote.id } : {}),
  });

  const choose = (f: File) => {
    setError(null);
    setAttachment({ file: f, url: f.type.startsWith('image/') ? URL.createObjectURL(f) : null });
  };

  const removeAttachment = () => {
    setAttachment(null);
    if (file.current) file.current.value = '';
  };

  // The preview is an object URL: it goes when another file replaces it, or with the composer.
  const previewUrl = attachment?.url ?? null;
  useEffect(
    () => () => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
    },
    [previewUrl],
  );

  /**
   * The chosen file uploaded (Parley checks WhatsApp's limits), then sent by its id. A send that
   * fails after the upload keeps the id, so trying again does not upload the file twice.
   */
  const sendAttachment = async (chosen: Attachment, caption: string) => {
    const f = chosen.file;
    const uploaded =
      chosen.uploaded ??
      (await api.post<{ id: string; type: string }>(
        `/v1/media${query({ channelId: conversation.channelId })}`,
        f,
        {
          'content-type': f.type || 'application/octet-stream',
          'x-filename': encodeURIComponent(f.name),
        },
      ));
    setAttachment((current) => (current?.file === f ? { ...current, uploaded } : current));
    const kind = uploaded.type;
    const media: Record<string, string> = { id: uploaded.id };
    if (kind === 'document') media.filename = f.name;
    if (caption && kind !== 'audio' && kind !== 'sticker') media.caption = caption;
    await api.post(
      '/v1/messages',
      { ...envelope(), type: kind, [kind]: media },
      { 'idempotency-key': newKey() },
    );
  };

  const send = async (e?: SyntheticEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if ((!body && !attachment) || busy) return;
    setBusy(true);
    setError(null);
    try {
      if (attachment) {
        await sendAttachment(attachment, body);
        removeAttachment();
      } else
        await api.post(
          '/v1/messages',
          { ...envelope(), type: 'text', text: { body } },
          {
            'idempotency-key': newKey(),
          },
        );
      setText('');
      onSent();
    } catch (err) {
      setError(errorText(err));
      if (err instanceof ApiError && err.code === 'window_closed') onSent();
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // "/thanks" then Tab: the canned response with that shortcut replaces what was typed.
    const typed = /^\/(\S+)$/.exec(text.trim())?.[1];
    const match = typed ? canned.find((c) => c.shortcut === typed) : undefined;
    if (e.key === 'Tab' && match) {
      e.preventDefault();
      setText(match.text);
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer-form" onSubmit={(e) => void send(e)}>
      {quote && (
        <div className="quote-preview">
          <span>Replying to: {quote.text.slice(0, 80)}</span>
          <button
            type="button"
            className="link"
            onClick={onClearQuote}
            aria-label="Cancel the quote"
          >
            ✕
          </button>
        </div>
      )}
      {attachment && (
        <figure className="attachment-preview" data-testid="attachment-preview">
          {attachment.url ? (
            <img src={attachment.url} alt={`Preview of ${attachment.file.name}`} />
          ) : (
            <span className="attachment-icon" aria-hidden="true">
              📎
            </span>
          )}
          <figcaption>
            <span className="attachment-name">{attachment.file.name}</span>{' '}
            <span className="hint">{fileSize(attachment.file.size)}</span>
          </figcaption>
          <button
            type="button"
            className="link"
            onClick={removeAttachment}
            aria-label={`Remove the attachment ${attachment.file.name}`}
          >
            Remove
          </button>
        </figure>
      )}
      <label className="sr-only" htmlFor="composer-text">
        Message
      </label>
      <textarea
        id="composer-text"
        rows={2}
        placeholder={
          attachment
            ? 'Add a caption (optional)'
            : 'Write a reply (Enter sends, Shift+Enter for a new line, /shortcut then Tab for a canned response)'
        }
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="composer-bar">
        {canned.length > 0 && (
          <select
            aria-label="Canned responses"
            value=""
            onChange={(e) => {
              const picked = canned.find((c) => c.id === e.target.value);
              if (picked) setText((t) => (t ? `${t}\n${picked.text}` : picked.text));
            }}
          >
            <option value="">Canned responses…</option>
            {canned.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title}
              </option>
            ))}
          </select>
        )}
        <label className="secondary file-button">
          Attach
          <input
            ref={file}
            type="file"
            className="sr-only"
            aria-label="Attach a file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) choose(f);
            }}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || (!text.trim() && !attachment)}>
          Send
        </button>
      </div>
    </form>
  );
}

/** A file size the way people read it. */
function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function NoteForm({ conversationId, onSent }: { conversationId: string; onSent: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    try {
      await api.post(`/v1/conversations/${encodeURIComponent(conversationId)}/notes`, {
        text: text.trim(),
      });
      setText('');
      setError(null);
      onSent();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form className="composer-form" onSubmit={(e) => void submit(e)}>
      <label className="sr-only" htmlFor="note-text">
        Internal note
      </label>
      <textarea
        id="note-text"
        rows={2}
        placeholder="A note for your team; the customer never sees it"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="composer-bar">
        <button type="submit" className="primary" disabled={!text.trim()}>
          Add note
        </button>
      </div>
    </form>
  );
}

function TemplatePicker({
  conversation,
  onSent,
}: {
  conversation: ConversationItem;
  onSent: () => void;
}) {
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  const [templateId, setTemplateId] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [headerMedia, setHeaderMedia] = useState<HeaderMedia | null>(null);
  /** What the live preview shows of the header: the chosen file, or the link. */
  const [headerShown, setHeaderShown] = useState<string | null>(null);
  const [headerSource, setHeaderSource] = useState<'upload' | 'link'>('upload');
  const [headerLink, setHeaderLink] = useState('');
  const [uploading, setUploading] = useState(false);
  const [buttons, setButtons] = useState<Record<number, string>>({});
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [eligibility, setEligibility] = useState<Eligibility | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [parkText, setParkText] = useState('');
  const [reengage, setReengage] = useState(true);
  const [parked, setParked] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<{ items: TemplateSummary[] }>('/v1/templates')
      .then((r) =>
        setTemplates(
          r.items.filter(
            (t) =>
              (t.effectiveStatus ?? t.status).toUpperCase() === 'APPROVED' &&
              (t.channelId === null || t.channelId === conversation.channelId),
          ),
        ),
      )
      .catch((err: unknown) => setError(errorText(err)));
    api
      .get<Eligibility>(
        `/v1/contacts/${encodeURIComponent(conversation.contact.id)}/eligibility${query({ channel: conversation.channelId })}`,
      )
      .then(setEligibility)
      .catch(() => setEligibility(null));
  }, [conversation.channelId, conversation.contact.id]);

  const template = templates.find((t) => t.id === templateId) ?? null;
  const form = useMemo(() => formOf(template?.components ?? []), [template]);
  const slots = form.slots;
  const formValues: FormValues = useMemo(
    () => ({ text: values, headerMedia, buttons }),
    [values, headerMedia, buttons],
  );
  const components = useMemo(() => componentsOf(form, formValues), [form, formValues]);

  const reset = () => {
    setValues({});
    setHeaderMedia(null);
    setHeaderShown((shown) => {
      if (shown?.startsWith('blob:')) URL.revokeObjectURL(shown);
      return null;
    });
    setHeaderLink('');
    setButtons({});
  };

  /** A header file is uploaded as soon as it is chosen, so WhatsApp's limits answer at once. */
  const chooseHeaderFile = async (f: File) => {
    if (!form.headerMedia) return;
    setUploading(true);
    setError(null);
    try {
      const uploaded = await api.post<{ id: string }>(
        `/v1/media${query({ channelId: conversation.channelId, type: form.headerMedia })}`,
        f,
        {
          'content-type': f.type || 'application/octet-stream',
          'x-filename': encodeURIComponent(f.name),
        },
      );
      setHeaderMedia(
        form.headerMedia === 'document'
          ? { id: uploaded.id, filename: f.name }
          : { id: uploaded.id },
      );
      setHeaderShown((shown) => {
        if (shown?.startsWith('blob:')) URL.revokeObjectURL(shown);
        return form.headerMedia === 'image' ? URL.createObjectURL(f) : f.name;
      });
    } catch (err) {
      setHeaderMedia(null);
      setError(errorText(err));
    } finally {
      setUploading(false);
    }
  };

  const chooseHeaderLink = (link: string) => {
    setHeaderLink(link);
    const ok = /^https?:\/\/\S+$/i.test(link.trim());
    setHeaderMedia(ok ? { link: link.trim() } : null);
    setHeaderShown(ok ? link.trim() : null);
  };

  // Live preview, rendered by Parley (TPL-12) with the parameters as typed.
  useEffect(() => {
    if (!template) {
      setPreview(null);
      return;
    }
    const timer = setTimeout(() => {
      api
        .post<TemplatePreview>(`/v1/templates/${encodeURIComponent(template.id)}/preview`, {
          components,
        })
        .then(setPreview)
        .catch(() => setPreview(null));
    }, 200);
    return () => clearTimeout(timer);
  }, [template, components]);

  const purpose = template?.category.toLowerCase() ?? null;
  const consent = purpose ? eligibility?.consent[purpose] : undefined;
  const missing = !complete(form, formValues);
  // A parked reply re-engages with the chosen template as the form fills it in (any template the
  // picker can send: media header, URL buttons), so the form must be complete first.
  const withTemplate = reengage && template !== null;

  const send = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!template) return;
    setBusy(true);
    setError(null);
    try {
      await api.post(
        '/v1/messages',
        {
          channelId: conversation.channelId,
          to: conversation.contact.phone,
          type: 'template',
          template: {
            name: template.name,
            language: { code: template.language },
            ...(components.length > 0 ? { components } : {}),
          },
        },
        { 'idempotency-key': newKey() },
      );
      reset();
      setTemplateId('');
      onSent();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const park = async () => {
    if (!parkText.trim()) return;
    setError(null);
    try {
      await api.post(`/v1/conversations/${encodeURIComponent(conversation.id)}/park`, {
        text: parkText.trim(),
        ...(withTemplate
          ? {
              reengagement: {
                templateId: template.id,
                ...(components.length > 0 ? { components } : {}),
              },
            }
          : {}),
      });
      setParked(parkText.trim());
      setParkText('');
      // The template went out with it: the picker starts afresh, as after "Send template".
      if (withTemplate) {
        reset();
        setTemplateId('');
      }
      onSent();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <div className="template-picker">
      <form onSubmit={(e) => void send(e)} aria-label="Send a template">
        <label>
          Template
          <select
            aria-label="Template"
            value={templateId}
            onChange={(e) => {
              setTemplateId(e.target.value);
              reset();
            }}
          >
            <option value="">Choose an approved template…</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.language}, {t.category.toLowerCase()})
              </option>
            ))}
          </select>
        </label>
        {templates.length === 0 && (
          <p className="hint">No approved template for this channel yet (see Templates).</p>
        )}
        {template && (
          <>
            <fieldset className="parameters">
              <legend>Parameters</legend>
              {slots.length === 0 && !form.headerMedia && form.urlButtons.length === 0 && (
                <p className="hint">This template takes no parameters.</p>
              )}
              {form.headerMedia && (
                <div
                  className="header-media"
                  role="group"
                  aria-label={`Header ${form.headerMedia}`}
                >
                  <span>Header {form.headerMedia}</span>
                  <label className="inline">
                    <input
                      type="radio"
                      name="header-source"
                      checked={headerSource === 'upload'}
                      onChange={() => {
                        setHeaderSource('upload');
                        chooseHeaderLink('');
                      }}
                    />
                    Upload a file
                  </label>
                  <label className="inline">
                    <input
                      type="radio"
                      name="header-source"
                      checked={headerSource === 'link'}
                      onChange={() => {
                        setHeaderSource('link');
                        setHeaderMedia(null);
                        setHeaderShown(null);
                      }}
                    />
                    Use a link
                  </label>
                  {headerSource === 'upload' ? (
                    <label>
                      Header {form.headerMedia} file
                      <input
                        type="file"
                        accept={
                          form.headerMedia === 'image'
                            ? 'image/jpeg,image/png'
                            : form.headerMedia === 'video'
                              ? 'video/mp4,video/3gpp'
                              : undefined
                        }
                        onChange={(e) => {
                          const f = e.target.files?.[0];
                          if (f) void chooseHeaderFile(f);
                        }}
                      />
                    </label>
                  ) : (
                    <label>
                      Header {form.headerMedia} link
                      <input
                        type="url"
                        placeholder="https://…"
                        value={headerLink}
                        onChange={(e) => chooseHeaderLink(e.target.value)}
                      />
                    </label>
                  )}
                  {uploading && <p className="hint">Uploading…</p>}
                </div>
              )}
              {slots.map((s) => {
                const key = `${s.component}:${s.key}`;
                return (
                  <label key={key}>
                    {s.component === 'header' ? 'Header' : 'Body'} {`{{${s.key}}}`}
                    <input
                      value={values[key] ?? ''}
                      required
                      onChange={(e) => setValues((v) => ({ ...v, [key]: e.target.value }))}
                    />
                  </label>
                );
              })}
              {form.urlButtons.map((b) => (
                <label key={`button:${b.index}`}>
                  Button “{b.text}” link ending
                  <span className="hint"> {b.url.replace(/\{\{.*$/, '')}</span>
                  <input
                    value={buttons[b.index] ?? ''}
                    required
                    onChange={(e) => setButtons((v) => ({ ...v, [b.index]: e.target.value }))}
                  />
                </label>
              ))}
            </fieldset>
            <div className="preview" aria-live="polite">
              <span className="preview-label">Preview</span>
              {form.headerMedia && (
                <div className="preview-header" data-testid="template-preview-header">
                  {headerShown === null ? (
                    <span className="hint">
                      ({form.headerMedia} header: upload a file or give a link)
                    </span>
                  ) : form.headerMedia === 'image' ? (
                    <img src={headerShown} alt="Header image" />
                  ) : (
                    <span>
                      {form.headerMedia === 'video' ? 'Video' : 'Document'}: {headerShown}
                    </span>
                  )}
                </div>
              )}
              <p data-testid="template-preview">{preview?.text ?? '…'}</p>
              {form.urlButtons.length > 0 && (
                <ul className="preview-buttons" data-testid="template-preview-buttons">
                  {form.urlButtons.map((b) => (
                    <li key={b.index}>
                      {b.text}: {buttonUrl(b, buttons[b.index] || '…')}
                    </li>
                  ))}
                </ul>
              )}
              {preview && !preview.valid && preview.problem && !missing && (
                <p className="error">{preview.problem.detail}</p>
              )}
            </div>
            <p
              className={`consent ${consent && !consent.allowed ? 'blocked' : ''}`}
              data-testid="consent"
            >
              Consent for {purpose}:{' '}
              {consent
                ? `${consent.state.replaceAll('_', ' ')}${consent.allowed ? ' — may be sent' : ' — sending is not allowed'}`
                : 'unknown'}
            </p>
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button
          type="submit"
          className="primary"
          disabled={!template || busy || missing || (consent ? !consent.allowed : false)}
        >
          Send template
        </button>
      </form>
      <details className="park">
        <summary>Park a reply until the customer answers</summary>
        <label>
          Reply to hold
          <textarea rows={2} value={parkText} onChange={(e) => setParkText(e.target.value)} />
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={withTemplate}
            onChange={(e) => setReengage(e.target.checked)}
            disabled={!template}
          />
          Send the chosen template now to re-engage
        </label>
        {withTemplate && missing && (
          <p className="hint">
            Fill in the template above (parameters, header, link endings) to send it with the parked
            reply.
          </p>
        )}
        <button
          type="button"
          className="secondary"
          onClick={() => void park()}
          disabled={!parkText.trim() || (withTemplate && (missing || uploading))}
        >
          Park reply
        </button>
        {parked && <p role="status">Held: “{parked}” goes out when the customer writes.</p>}
      </details>
    </div>
  );
}
