/**
 * Where alerts go: the AlertmanagerConfig the region's Alertmanager uses as its whole
 * configuration (Alertmanager `alertmanagerConfiguration.name`, so the operator adds no
 * `namespace` matcher: our alerts carry the namespace of what they watch, not ours).
 *
 * Routing, first match wins unless `continue`:
 *   severity=critical → PagerDuty (continue), repeat 5 min   — every critical alert pages,
 *                                                               business ones too
 *   team=business     → email (continue), then business Slack — franchise operations
 *   severity=critical → platform Slack, repeat 5 min
 *   severity=warning  → platform Slack, repeat 15 min
 *   anything else     → platform Slack (the root): an alert with a missing or misspelt
 *                       label is still seen by someone
 * Grouping by alertname and region; a new group notifies 30 s after its first alert, a
 * changed group within a minute, so an alert that fires pages within its `for` + ~1 min.
 * Inhibition: a critical alert mutes the warning of the same alertname in the same region
 * (the page and the ticket of one burn, the two latency tiers).
 *
 * Keys and webhook URLs are never inline: every receiver reads them from the Secret the
 * receivers ExternalSecret produces (`secretKeyRef`s the operator resolves).
 */
import type {
  AlertmanagerConfigSpec,
  AlertmanagerConfigSpecReceivers,
} from '../../imports/alertmanagerconfig-monitoring.coreos.com';
import {
  AlertmanagerConfigSpecInhibitRulesSourceMatchMatchType as SourceMatchType,
  AlertmanagerConfigSpecInhibitRulesTargetMatchMatchType as TargetMatchType,
  AlertmanagerConfigSpecRouteMatchersMatchType as MatchType,
} from '../../imports/alertmanagerconfig-monitoring.coreos.com';
import type { RegionPlan } from '../../regions/plan';
import type { RemoteKeyRef } from '../lib/external-secret';
import type { MonitoringNames } from './names';

/** Receiver names (the operator prefixes them with `<namespace>/<config name>/`). */
export const RECEIVERS = {
  pagerduty: 'pagerduty',
  slackPlatform: 'slack-platform',
  slackBusiness: 'slack-business',
  emailBusiness: 'email-business',
} as const;

/** Keys of the receivers Secret. Slack incoming webhooks are bound to one channel each. */
export const RECEIVER_SECRET_KEYS = {
  pagerdutyRoutingKey: 'pagerduty-routing-key',
  slackWebhookUrl: 'slack-webhook-url',
  slackBusinessWebhookUrl: 'slack-business-webhook-url',
  smtpPassword: 'smtp-password',
} as const;

/** Where each Secret key comes from in the secret store: one JSON entry, one property per key. */
export function receiverRemoteKeys(plan: RegionPlan): Record<string, RemoteKeyRef> {
  const key = `${plan.global.platform.name}/alertmanager`;
  return Object.fromEntries(Object.values(RECEIVER_SECRET_KEYS).map((k) => [k, { key, property: k }]));
}

export interface RoutingTuning {
  /** Wait for more alerts of a new group before the first notification. @default '30s' */
  readonly groupWait?: string;
  /** Wait before notifying about alerts added to (or resolved in) a group. @default '1m' */
  readonly groupInterval?: string;
  /** Re-notification of a still-firing critical alert. @default '5m' */
  readonly criticalRepeat?: string;
  /** Re-notification of a still-firing warning. @default '15m' */
  readonly warningRepeat?: string;
  /** Re-notification of business alerts by email and Slack (people read mail less often). @default '1h' */
  readonly businessRepeat?: string;
  /**
   * SMTP user. The model has the sender address only; most relays take it as the user.
   * @default global.monitoring.alertmanager.emailFrom
   */
  readonly smtpAuthUsername?: string;
}

/** The labels routing reads, in the order of the route list. */
const GROUP_BY: readonly string[] = ['alertname', 'region'];

const match = (name: string, value: string) => ({ name, value, matchType: MatchType.VALUE_EQUALS });

const SLACK_TITLE = '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.region }})';
const SLACK_TEXT =
  '{{ range .Alerts }}*{{ .Labels.severity }}* {{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}';

export function alertmanagerConfigSpec(plan: RegionPlan, names: MonitoringNames, tuning: RoutingTuning = {}): AlertmanagerConfigSpec {
  const am = plan.global.monitoring.alertmanager;
  const secret = (key: string) => ({ name: names.receiversSecret, key });
  const critical = tuning.criticalRepeat ?? '5m';
  const warning = tuning.warningRepeat ?? '15m';
  const business = tuning.businessRepeat ?? '1h';
  const slack = (channel: string, key: string) => ({
    apiUrl: secret(key),
    channel,
    sendResolved: true,
    title: SLACK_TITLE,
    text: SLACK_TEXT,
  });
  const receivers: AlertmanagerConfigSpecReceivers[] = [
    {
      name: RECEIVERS.pagerduty,
      pagerdutyConfigs: [{
        routingKey: secret(RECEIVER_SECRET_KEYS.pagerdutyRoutingKey),
        sendResolved: true,
        severity: 'critical',
        description: '[{{ .CommonLabels.region }}] {{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}',
      }],
    },
    { name: RECEIVERS.slackPlatform, slackConfigs: [slack(am.slackChannel, RECEIVER_SECRET_KEYS.slackWebhookUrl)] },
    { name: RECEIVERS.slackBusiness, slackConfigs: [slack(am.businessSlackChannel, RECEIVER_SECRET_KEYS.slackBusinessWebhookUrl)] },
    {
      name: RECEIVERS.emailBusiness,
      emailConfigs: [{
        to: am.businessEmail,
        from: am.emailFrom,
        smarthost: am.smarthost,
        authUsername: tuning.smtpAuthUsername ?? am.emailFrom,
        authPassword: secret(RECEIVER_SECRET_KEYS.smtpPassword),
        // STARTTLS is required: the password never crosses the network in the clear.
        requireTls: true,
        sendResolved: true,
        headers: [{ key: 'Subject', value: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.region }}): {{ .CommonAnnotations.summary }}' }],
      }],
    },
  ];
  return {
    route: {
      receiver: RECEIVERS.slackPlatform,
      groupBy: [...GROUP_BY],
      groupWait: tuning.groupWait ?? '30s',
      groupInterval: tuning.groupInterval ?? '1m',
      repeatInterval: warning,
      routes: [
        { receiver: RECEIVERS.pagerduty, matchers: [match('severity', 'critical')], continue: true, repeatInterval: critical },
        { receiver: RECEIVERS.emailBusiness, matchers: [match('team', 'business')], continue: true, repeatInterval: business },
        { receiver: RECEIVERS.slackBusiness, matchers: [match('team', 'business')], repeatInterval: business },
        { receiver: RECEIVERS.slackPlatform, matchers: [match('severity', 'critical')], repeatInterval: critical },
        { receiver: RECEIVERS.slackPlatform, matchers: [match('severity', 'warning')], repeatInterval: warning },
      ],
    },
    inhibitRules: [
      {
        sourceMatch: [{ name: 'severity', value: 'critical', matchType: SourceMatchType.VALUE_EQUALS }],
        targetMatch: [{ name: 'severity', value: 'warning', matchType: TargetMatchType.VALUE_EQUALS }],
        // And the labels that tell two alerts of one name apart (absent on both compares equal):
        // a 7-day page for one mesh certificate must not mute the 30-day warning for another.
        equal: ['alertname', 'region', 'service', 'certificate'],
      },
    ],
    receivers,
  };
}
