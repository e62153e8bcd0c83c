// Departments and agents: invite, change roles and departments, remove.
import { useState, type SyntheticEvent } from 'react';
import { api, type Ref, type Role, type Session } from '../api.ts';
import { CopyField, ErrorNote, errorMessage, useResource } from '../common.tsx';

interface Agent {
  id: string;
  name: string;
  email: string;
  role: Role;
  departmentIds: string[];
}

export function TeamPage({ session }: { session: Session }) {
  const agents = useResource<{ items: Agent[] }>('/v1/agents');
  const departments = useResource<{ items: Ref[] }>('/v1/departments');
  const [error, setError] = useState<string | null>(null);
  const [invite, setInvite] = useState<{
    email: string;
    name: string;
    role: Role;
    departmentId: string;
  }>({
    email: '',
    name: '',
    role: 'agent',
    departmentId: '',
  });
  const [inviteUrl, setInviteUrl] = useState<string | null>(null);
  const [department, setDepartment] = useState('');

  const run = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setError(null);
      agents.reload();
      departments.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const sendInvite = (e: SyntheticEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api.post<{ inviteUrl: string }>('/v1/agents/invites', {
        email: invite.email,
        name: invite.name,
        role: invite.role,
        departmentIds: invite.departmentId ? [invite.departmentId] : [],
      });
      setInviteUrl(r.inviteUrl);
      setInvite({ email: '', name: '', role: 'agent', departmentId: '' });
    });
  };

  const deptName = (id: string) => departments.data?.items.find((d) => d.id === id)?.name ?? id;

  return (
    <section className="page">
      <h1>Team</h1>
      <ErrorNote error={error ?? agents.error ?? departments.error} />
      <div className="columns">
        <article className="card">
          <h2>Agents</h2>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Departments</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {agents.data?.items.map((a) => (
                <tr key={a.id}>
                  <th scope="row">{a.name}</th>
                  <td>{a.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${a.name}`}
                      value={a.role}
                      disabled={a.id === session.agent.id}
                      onChange={(e) =>
                        void run(() => api.patch(`/v1/agents/${a.id}`, { role: e.target.value }))
                      }
                    >
                      <option value="agent">agent</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    {a.departmentIds.map(deptName).join(', ') || '—'}
                    <select
                      aria-label={`Add ${a.name} to a department`}
                      value=""
                      onChange={(e) =>
                        e.target.value &&
                        void run(() =>
                          api.patch(`/v1/agents/${a.id}`, {
                            departmentIds: [...new Set([...a.departmentIds, e.target.value])],
                          }),
                        )
                      }
                    >
                      <option value="">+ department</option>
                      {departments.data?.items.map((d) => (
                        <option key={d.id} value={d.id}>
                          {d.name}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {a.id !== session.agent.id && (
                      <button
                        type="button"
                        className="link danger"
                        onClick={() => {
                          if (confirm(`Remove ${a.name}?`))
                            void run(() => api.delete(`/v1/agents/${a.id}`));
                        }}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form className="stack-form" onSubmit={sendInvite} aria-label="Invite an agent">
            <h3>Invite an agent</h3>
            <label>
              Name
              <input
                required
                value={invite.name}
                onChange={(e) => setInvite({ ...invite, name: e.target.value })}
              />
            </label>
            <label>
              Email
              <input
                type="email"
                required
                value={invite.email}
                onChange={(e) => setInvite({ ...invite, email: e.target.value })}
              />
            </label>
            <label>
              Role
              <select
                value={invite.role}
                onChange={(e) => setInvite({ ...invite, role: e.target.value as Role })}
              >
                <option value="agent">agent</option>
                <option value="admin">admin</option>
              </select>
            </label>
            <label>
              Department
              <select
                value={invite.departmentId}
                onChange={(e) => setInvite({ ...invite, departmentId: e.target.value })}
              >
                <option value="">None</option>
                {departments.data?.items.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="primary">
              Create invite
            </button>
            {inviteUrl && <CopyField label="Send this link to the new agent" value={inviteUrl} />}
          </form>
        </article>
        <article className="card">
          <h2>Departments</h2>
          <ul className="plain">
            {departments.data?.items.map((d) => (
              <li key={d.id} className="row-between">
                {d.name}
                <button
                  type="button"
                  className="link danger"
                  onClick={() => void run(() => api.delete(`/v1/departments/${d.id}`))}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (department.trim())
                void run(async () => {
                  await api.post('/v1/departments', { name: department.trim() });
                  setDepartment('');
                });
            }}
          >
            <label>
              New department
              <input value={department} onChange={(e) => setDepartment(e.target.value)} />
            </label>
            <button type="submit" className="secondary">
              Add
            </button>
          </form>
        </article>
      </div>
    </section>
  );
}
