import type { DailyUsage } from './api.ts';

/** The drawing's own units (the viewBox): the stylesheet scales it to the section's width. */
const WIDTH = 600;
const BARS_HEIGHT = 80;
const LABELS_HEIGHT = 18;
const GAP = 2;

/**
 * What the chart says to a screen reader, and to anyone who reads its name: the total and the
 * busiest day, the two figures a glance at the bars gives.
 */
export function chartName(daily: readonly DailyUsage[]): string {
  const lead = `Requests per day, last ${daily.length} days`;
  const total = daily.reduce((sum, day) => sum + day.requests, 0);
  if (total === 0) return `${lead}: none`;
  const busiest = daily.reduce((most, day) => (day.requests > most.requests ? day : most));
  return `${lead}: ${total} in all, most on ${busiest.date} (${busiest.requests})`;
}

/**
 * The last 30 days as bars, drawn as SVG by the page itself: no charting library, and only
 * attributes and the stylesheet's classes (the CSP allows no inline style or script). A bar's
 * title gives its day and count on hover; the image's name gives the summary.
 */
export function UsageChart(props: { daily: readonly DailyUsage[] }) {
  const { daily } = props;
  const most = Math.max(1, ...daily.map((day) => day.requests));
  const slot = WIDTH / Math.max(1, daily.length);
  const first = daily[0];
  const last = daily.at(-1);
  // The caption is for the eye; a screen reader hears the image's name, which says more.
  return (
    <figure class="usage-chart">
      <figcaption class="hint" aria-hidden="true">
        Requests per day, last {daily.length} days
      </figcaption>
      <svg role="img" aria-label={chartName(daily)} viewBox={`0 0 ${WIDTH} ${BARS_HEIGHT + LABELS_HEIGHT}`}>
        <line class="axis" x1="0" x2={WIDTH} y1={BARS_HEIGHT} y2={BARS_HEIGHT} />
        {daily.map((day, index) => {
          const height = (day.requests / most) * BARS_HEIGHT;
          return (
            <rect key={day.date} class="bar" x={index * slot + GAP / 2} y={BARS_HEIGHT - height} width={slot - GAP} height={height}>
              <title>{`${day.date}: ${day.requests}`}</title>
            </rect>
          );
        })}
        {first === undefined || last === undefined ? null : (
          <>
            <text class="label" x="0" y={BARS_HEIGHT + LABELS_HEIGHT - 4}>{first.date}</text>
            <text class="label end" x={WIDTH} y={BARS_HEIGHT + LABELS_HEIGHT - 4}>{last.date}</text>
          </>
        )}
      </svg>
    </figure>
  );
}
