// Sign-in, accepting an invite and resetting a password.
import { useState, type SyntheticEvent } from 'react';
import { ApiError, api, setCsrfToken, type Session } from './api.ts';
import { navigate, searchParam } from './router.ts';

function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'invalid_credentials') return 'The email or password is not right.';
    if (error.code === 'too_many_attempts')
      return 'Too many attempts. Wait a minute before trying again.';
    return error.detail;
  }
  return 'Something went wrong. Try again.';
}

export function Login({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.post<Session>('/v1/auth/login', { email, password });
      onSignedIn(session);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const forgot = async () => {
    setError(null);
    if (!email) {
      setError('Enter your email first, then ask for a reset link.');
      return;
    }
    try {
      await api.post('/v1/auth/password-reset', { email });
      setNotice('If that address belongs to an agent, a reset link is on its way (ask an admin).');
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <div className="center-page">
      <form
        className="card auth-card"
        onSubmit={(e) => void submit(e)}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">Sign in to Parley</h1>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <button type="button" className="link" onClick={() => void forgot()}>
          Forgot your password?
        </button>
      </form>
    </div>
  );
}

function PasswordForm({
  title,
  withName,
  submitLabel,
  onSubmit,
}: {
  title: string;
  withName: boolean;
  submitLabel: string;
  onSubmit: (values: { name: string; password: string }) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (password !== confirm) {
      setError('The two passwords differ.');
      return;
    }
    setError(null);
    try {
      await onSubmit({ name, password });
      setDone(true);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <div className="center-page">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="pw-title">
        <h1 id="pw-title">{title}</h1>
        {done ? (
          <p role="status">
            Done.{' '}
            <a
              href="/login"
              onClick={(e) => {
                e.preventDefault();
                navigate('/login');
                location.reload();
              }}
            >
              Sign in
            </a>
          </p>
        ) : (
          <>
            {withName && (
              <label>
                Your name
                <input required value={name} onChange={(e) => setName(e.target.value)} />
              </label>
            )}
            <label>
              New password
              <input
                type="password"
                autoComplete="new-password"
                minLength={10}
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <label>
              Repeat it
              <input
                type="password"
                autoComplete="new-password"
                required
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
              />
            </label>
            {error && (
              <p className="error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary">
              {submitLabel}
            </button>
          </>
        )}
      </form>
    </div>
  );
}

export function AcceptInvite() {
  const token = searchParam('token') ?? '';
  return (
    <PasswordForm
      title="Join your team on Parley"
      withName
      submitLabel="Create my account"
      onSubmit={async ({ name, password }) => {
        const session = await api.post<Partial<Session>>('/v1/auth/accept-invite', {
          token,
          name,
          password,
        });
        if (session.csrfToken) setCsrfToken(session.csrfToken);
      }}
    />
  );
}

export function ResetPassword() {
  const token = searchParam('token') ?? '';
  return (
    <PasswordForm
      title="Choose a new password"
      withName={false}
      submitLabel="Save the password"
      onSubmit={async ({ password }) => {
        await api.post('/v1/auth/password-reset/confirm', { token, password });
      }}
    />
  );
}
