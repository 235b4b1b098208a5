import Link from 'next/link';
import { formatTime, incidentHref } from '../lib/format';
import type { DecisionView } from '../lib/types';

export function DecisionsTable({ decisions }: { decisions: DecisionView[] }) {
  if (decisions.length === 0) return <p className="muted">No decision yet.</p>;
  return (
    <div className="table-wrap">
      <table className="cards">
        <thead>
          <tr>
            <th scope="col" className="num">
              Cycle
            </th>
            <th scope="col">Time</th>
            <th scope="col">Rule</th>
            <th scope="col">Action</th>
            <th scope="col">Reason</th>
            <th scope="col">Rejected alternatives</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.id}>
              <td className="num" data-label="Cycle">
                {d.cycle}
              </td>
              <td data-label="Time">{formatTime(d.createdAt)}</td>
              <td data-label="Rule">
                <code>{d.rule}</code>
              </td>
              <td data-label="Action">{d.action}</td>
              <td data-label="Reason">
                {d.reason}
                {d.incidentId && (
                  <div className="small">
                    <Link href={incidentHref(d.incidentId)}>incident</Link>
                  </div>
                )}
              </td>
              <td className="small" data-label="Rejected alternatives">
                {d.alternatives.length === 0
                  ? '–'
                  : d.alternatives.map((a) => (
                      <div key={`${a.action}-${a.rejectedBecause}`}>
                        <b>{a.action}</b>: {a.rejectedBecause}
                      </div>
                    ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
