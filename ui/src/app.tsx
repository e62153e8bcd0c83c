// The shell: who is signed in, the navigation, and which screen the path shows.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, setCsrfToken, type Session } from './api.ts';
import { navigate, usePath } from './router.ts';
import { AcceptInvite, Login, ResetPassword } from './login.tsx';
import { InboxPage } from './inbox/inbox-page.tsx';
import { ReportsPage } from './reports.tsx';
import { ChannelsPage } from './admin/channels.tsx';
import { TeamPage } from './admin/team.tsx';
import { TemplatesPage } from './admin/templates.tsx';
import { CampaignsPage } from './admin/campaigns.tsx';
import { BillingPage } from './admin/billing.tsx';
import { CannedPage } from './admin/canned.tsx';
import { startLive, stopLive } from './live.ts';

export type SessionState = { kind: 'loading' } | { kind: 'out' } | { kind: 'in'; session: Session };

const NAV = [
  { path: '/inbox', label: 'Inbox', admin: false },
  { path: '/reports', label: 'Reports', admin: false },
  { path: '/admin/channels', label: 'Channels', admin: true },
  { path: '/admin/team', label: 'Team', admin: true },
  { path: '/admin/canned', label: 'Canned', admin: true },
  { path: '/admin/templates', label: 'Templates', admin: true },
  { path: '/admin/campaigns', label: 'Campaigns', admin: true },
  { path: '/admin/billing', label: 'Billing', admin: true },
] as const;

export function App() {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const path = usePath();

  const signedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrfToken);
    setState({ kind: 'in', session });
  }, []);

  useEffect(() => {
    api
      .get<Session>('/v1/auth/session')
      .then(signedIn)
      .catch(() => setState({ kind: 'out' }));
  }, [signedIn]);

  useEffect(() => {
    if (state.kind !== 'in') return;
    startLive();
    return () => stopLive();
  }, [state.kind]);

  if (path === '/accept-invite') return <AcceptInvite />;
  if (path === '/reset-password') return <ResetPassword />;
  if (state.kind === 'loading')
    return (
      <div className="center-page" aria-busy="true">
        Loading…
      </div>
    );
  if (state.kind === 'out')
    return (
      <Login
        onSignedIn={(session) => {
          signedIn(session);
          if (path === '/' || path === '/login') navigate('/inbox', { replace: true });
        }}
      />
    );

  const { session } = state;
  const logout = async () => {
    try {
      await api.post('/v1/auth/logout');
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
    setCsrfToken('');
    setState({ kind: 'out' });
    navigate('/login', { replace: true });
  };
  const isAdmin = session.agent.role === 'admin';
  if (path === '/' || path === '/login') {
    navigate('/inbox', { replace: true });
    return null;
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-label="Parley">
          Parley
        </span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => isAdmin || !n.admin).map((n) => (
              <li key={n.path}>
                <a
                  href={n.path}
                  aria-current={path.startsWith(n.path) ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(n.path);
                  }}
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span title={session.agent.email}>
            {session.agent.name} · {session.workspace.name}
          </span>
          <button type="button" className="link" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen path={path} session={session} />
      </main>
    </div>
  );
}

function Screen({ path, session }: { path: string; session: Session }) {
  if (path.startsWith('/inbox')) {
    const id = path.split('/')[2];
    return <InboxPage session={session} conversationId={id ? decodeURIComponent(id) : null} />;
  }
  if (path === '/reports') return <ReportsPage />;
  if (session.agent.role === 'admin') {
    if (path === '/admin/channels') return <ChannelsPage />;
    if (path === '/admin/team') return <TeamPage session={session} />;
    if (path === '/admin/canned') return <CannedPage />;
    if (path === '/admin/templates') return <TemplatesPage />;
    if (path === '/admin/campaigns') return <CampaignsPage />;
    if (path === '/admin/billing') return <BillingPage />;
  }
  return (
    <section className="page">
      <h1>Not found</h1>
      <p>
        There is nothing at <code>{path}</code>.{' '}
        <a
          href="/inbox"
          onClick={(e) => {
            e.preventDefault();
            navigate('/inbox');
          }}
        >
          Back to the inbox
        </a>
      </p>
    </section>
  );
}
