package audit

import (
	"fmt"
	"strings"
	"time"
)

// rootPassword says whether the root user has a password: AccountPasswordPresent when the summary
// has it, else the credential report's password_enabled when it is true or false (§1.5 item 9:
// IAMUG says root's is always not_supported; parse all three and prefer the summary).
func (r Root) rootPassword() (present, known bool) {
	if r.PasswordPresent != nil {
		return *r.PasswordPresent, true
	}
	if r.Report != nil {
		switch r.Report.PasswordEnabled {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// rootChecks runs IAM.4, IAM.9, IAM.6 and trailwatch's root-hygiene checks.
func (e *evaluator) rootChecks() {
	r := e.f.Root
	res := "arn:aws:iam::" + e.f.AccountID + ":root"
	g := GlobalRegion
	if !r.SummaryKnown {
		for _, id := range []string{"IAM.4", "IAM.6", "IAM.9"} {
			e.add(g, id, NoData, res, "iam:GetAccountSummary could not be read", "")
		}
	} else {
		e.iam4(r, res)
		e.iam9(r, res)
		e.iam6(r, res)
	}
	e.recentUse(r, res)
	e.centralized(r, res)
}

// iam4: no root access key (SH25 IAM.4; CIS v5 1.3: AccountAccessKeysPresent = 0, and an inactive
// key still counts).
func (e *evaluator) iam4(r Root, res string) {
	if r.AccessKeysPresent {
		e.add(GlobalRegion, "IAM.4", Fail, res, "the root user has an access key (AccountAccessKeysPresent=1; an inactive key counts too)",
			"Sign in as root (or use AssumeRoot with the IAMDeleteRootUserCredentials task policy) and delete the key: Security credentials > Access keys > Delete")
		return
	}
	reason := "the root user has no access key (AccountAccessKeysPresent=0)"
	if rep := r.Report; rep != nil && (rep.AccessKey1Active || rep.AccessKey2Active) {
		e.add(GlobalRegion, "IAM.4", Fail, res, "the account summary says no root access key, but the credential report shows an active one",
			"Delete the root access key; the credential report is refreshed at most every four hours")
		return
	}
	e.add(GlobalRegion, "IAM.4", Pass, res, reason, "")
}

// iam9: root MFA (SH25 IAM.9; CIS v5 1.4: AccountMFAEnabled = 1 or AccountPasswordPresent = 0).
// Decision: when neither MFA nor the absence of a password is shown (moto 5.2.1 omits
// AccountPasswordPresent and the root row), IAM.9 FAILs, as AWS Config's root-account-mfa-enabled
// does on AccountMFAEnabled = 0.
func (e *evaluator) iam9(r Root, res string) {
	pw, known := r.rootPassword()
	switch {
	case r.MFAEnabled:
		e.add(GlobalRegion, "IAM.9", Pass, res, "MFA is enabled for the root user", "")
	case known && !pw:
		e.add(GlobalRegion, "IAM.9", Pass, res, "the root user has no password (root credentials removed)", "")
	default:
		why := "MFA is not enabled for the root user"
		if !known {
			why += ", and whether it has a password is unknown (no AccountPasswordPresent, no root row in the credential report)"
		}
		e.add(GlobalRegion, "IAM.9", Fail, res, why, "Sign in as root: Security credentials > Multi-factor authentication > Assign MFA device (a hardware or passkey device also passes IAM.6); or remove the root password with centralized root access")
	}
}

// iam6: hardware root MFA (SH25 IAM.6; CIS v5 1.5): MFA on and no virtual device assigned to root,
// or no root password. Hardware and FIDO devices are not listed, so hardware = MFA on with no root
// virtual device (§3.2, [derived] as PRW and CIS do).
func (e *evaluator) iam6(r Root, res string) {
	pw, known := r.rootPassword()
	switch {
	case known && !pw && !r.MFAEnabled:
		e.add(GlobalRegion, "IAM.6", Pass, res, "the root user has no password (root credentials removed)", "")
	case !r.MFAEnabled:
		e.add(GlobalRegion, "IAM.6", Fail, res, "MFA is not enabled for the root user", "Assign a hardware or passkey MFA device to the root user")
	case !r.VirtualMFAKnown:
		e.add(GlobalRegion, "IAM.6", NoData, res, "iam:ListVirtualMFADevices could not be read", "")
	case r.RootVirtualMFA:
		e.add(GlobalRegion, "IAM.6", Fail, res, "the root user's MFA is a virtual device", "Replace the root user's virtual MFA device with a hardware or passkey device")
	default:
		e.add(GlobalRegion, "IAM.6", Pass, res, "the root user's MFA is not a virtual device", "")
	}
}

// recentUse reports the root user's last password and key uses from the credential report.
func (e *evaluator) recentUse(r Root, res string) {
	const id = "trailwatch.root-recent-use"
	if r.Report == nil {
		why := ErrNoRootRow.Error()
		if r.ReportErr != "" {
			why = r.ReportErr
		}
		e.add(GlobalRegion, id, NoData, res, why, "")
		return
	}
	var uses, recent []string
	for _, u := range []struct {
		what string
		at   time.Time
	}{{"password", r.Report.PasswordLastUsed}, {"access key 1", r.Report.AccessKey1LastUsed}, {"access key 2", r.Report.AccessKey2LastUsed}} {
		if u.at.IsZero() {
			uses = append(uses, u.what+" never used")
			continue
		}
		s := u.what + " last used " + u.at.UTC().Format("2006-01-02T15:04:05Z")
		uses = append(uses, s)
		if e.f.Now.Sub(u.at) < e.opts.RecentRootUse {
			recent = append(recent, s)
		}
	}
	if len(recent) > 0 {
		e.add(GlobalRegion, id, Warning, res, fmt.Sprintf("the root user was used within %d days: %s", int(e.opts.RecentRootUse.Hours()/24), strings.Join(recent, ", ")),
			"Use IAM users, roles or IAM Identity Center for daily work; look up the root events with aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root")
		return
	}
	e.add(GlobalRegion, id, Pass, res, strings.Join(uses, ", "), "")
}

// centralized reports centralized root access (IAM ListOrganizationsFeatures) and what it means for
// the root alert: AssumeRoot sessions log as userIdentity.type Root without invokedBy, so the CIS
// root filter fires for them (§3.3).
func (e *evaluator) centralized(r Root, res string) {
	f := r.Features
	if f.Err != "" {
		e.add(GlobalRegion, "trailwatch.root-centralized", NoData, res, "centralized root access unknown: "+f.Err, "")
		return
	}
	pw, known := r.rootPassword()
	creds := r.AccessKeysPresent || (known && pw) || !known
	switch {
	case !f.RootCredentialsManagement:
		e.add(GlobalRegion, "trailwatch.root-centralized", Warning, res, "centralized root access (RootCredentialsManagement) is not enabled for the organization (CIS v7.0 2.1.1)",
			"aws iam enable-organizations-root-credentials-management (from the management account)")
	case creds:
		e.add(GlobalRegion, "trailwatch.root-centralized", Warning, res, "centralized root access is enabled, but this account's root user may still have credentials",
			"aws sts assume-root --target-principal "+e.f.AccountID+" --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials, then delete the root password, keys and MFA")
	default:
		e.add(GlobalRegion, "trailwatch.root-centralized", Pass, res, "centralized root access is enabled and the root user has no password or access key", "")
	}
	if f.RootSessions {
		e.add(GlobalRegion, "trailwatch.assume-root", Warning, res,
			"AssumeRoot sessions are enabled: they log as userIdentity.type Root with sessionContext.assumedRoot true and no invokedBy, so the CIS root filter alerts on each of them",
			"Keep the exact CIS filter (Security Hub CloudWatch.1 wants it) and accept these alerts, or add a second filter that appends `&& "+AssumeRootExclusion+"` (it fails the exact-pattern check) and alarm on { $.eventName = \"AssumeRoot\" } in the management account; never use assumedRoot != \"true\", which silences every root event")
	} else {
		e.add(GlobalRegion, "trailwatch.assume-root", Pass, res, "AssumeRoot sessions (RootSessions) are not enabled", "")
	}
}
