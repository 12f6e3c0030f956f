package mailer

import "github.com/rolodav/rolodav/internal/store"

// Languages the mails are written in; any other falls back to English.
var Languages = []string{"en", "fr", "de", "it"}

// catalog is the text of the mails in one language. In the strings,
// {login}, {name} and {count} stand for the account, the app password's
// name and the number of failures; a migration's mail has {host} (the
// source's) and {added}, {updated}, {skipped} and {rejected}. Labels carry their own colon, for
// French spacing.
type catalog struct {
	months   [12]string
	date     string // layout: {day} {month} {year} {time}; {day1} is the day with French "1er"
	on       string // joins an app and its system: "DAVx5 on Android 14"
	greeting string
	// Facts.
	when, addr, client string
	unknownAddr        string
	unknownClient      string
	// Links.
	activity, passwords, security string
	ifYou                         string
	footer                        string
	kinds                         map[string]kindText
}

// failedCodes is the key of the catalogs' text for a NoticeFailedSignIns
// whose Detail is "code:<n>": the right password, then wrong two-factor
// codes.
const failedCodes = store.NoticeFailedSignIns + "/code"

// kindText is what one kind of mail says.
type kindText struct {
	subject string
	summary string
	// failed sign-ins: when the count is unknown; two-factor: when turned
	// off; migration: when it did not end as done.
	subjectAlt, summaryAlt string
	more                   string // a second paragraph; "" for none
	ifYou                  string // "" = the catalog's
	ifNotYou               string
	ifNotYouAlt            string // two-factor turned off
	viaWeb, viaDAV         string // new-sign-in: how
	securityLink           bool   // the links start with the security page (to change the password)
}

var catalogs = map[string]*catalog{
	"en": {
		months:        [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		date:          "{day} {month} {year}, {time} UTC",
		on:            "on",
		greeting:      "Hello,",
		when:          "When:",
		addr:          "Address:",
		client:        "Device or app:",
		unknownAddr:   "unknown",
		unknownClient: "unknown",
		activity:      "Recent activity:",
		passwords:     "App passwords:",
		security:      "Security settings:",
		ifYou:         "If it was you, there is nothing to do.",
		footer:        "This is an automatic security message from rolodav about your account; replies are not read. You can choose which of these mails you get on the security page:",
		kinds: map[string]kindText{
			store.NoticeNewSignIn: {
				subject:  "New sign-in to your rolodav account",
				summary:  "Someone signed in to your account {login} from an address or a device not used with it before.",
				viaWeb:   "The sign-in was on the account pages.",
				viaDAV:   "The sign-in was made by a sync app (CalDAV or CardDAV).",
				ifNotYou: "If it was not you, someone else knows your password: change it at once, then check the recent activity and delete any app password you do not recognise.",
			},
			store.NoticeFailedSignIns: {
				subject:    "Several failed sign-ins to your account",
				summary:    "There were at least {count} attempts to sign in to your account {login} with a wrong password.",
				summaryAlt: "There were several attempts to sign in to your account {login} with a wrong password.",
				more:       "rolodav slows down further attempts. The details below are those of the attempt that triggered this mail.",
				ifYou:      "If it was you, or one of your devices with an old password, there is nothing to do but update the password on that device.",
				ifNotYou:   "If it was not you, someone may be trying to guess your password. Make sure it is long and used nowhere else, and think of turning on two-factor sign-in.",
			},
			failedCodes: {
				subject:      "Wrong two-factor codes after a correct password",
				summary:      "Someone gave the right password for your account {login}, then a wrong two-factor code, at least {count} times.",
				summaryAlt:   "Someone gave the right password for your account {login}, then wrong two-factor codes.",
				more:         "Two-factor sign-in kept them out, and rolodav slows down further attempts. The details below are those of the attempt that triggered this mail.",
				ifYou:        "If it was you (a mistyped code, or a device whose clock is wrong), there is nothing to do.",
				ifNotYou:     "If it was not you, someone else knows your password: change it at once on the security page, then check the recent activity and the app passwords.",
				securityLink: true,
			},
			store.NoticeTwoFactor: {
				subject:     "Two-factor sign-in turned on",
				subjectAlt:  "Two-factor sign-in turned off",
				summary:     "Two-factor sign-in was turned on for your account {login}. From now on the account pages ask for a code after your password, and sync apps need app passwords.",
				summaryAlt:  "Two-factor sign-in was turned off for your account {login}. Signing in now takes your password only.",
				ifNotYou:    "If it was not you, someone else knows your password: change it at once and check the recent activity.",
				ifNotYouAlt: "If it was not you, someone else knows your password and had your second factor: change your password at once, turn two-factor sign-in back on and check the recent activity.",
			},
			store.NoticeAppPassword: {
				subject:  "New app password: {name}",
				summary:  "A new app password named “{name}” was created for your account {login}. It lets a device or an app sync your contacts and calendars.",
				ifNotYou: "If it was not you, delete it on the app passwords page at once, change your password and check the recent activity.",
			},
			store.NoticePassword: {
				subject:  "Your password was changed",
				summary:  "The password of your account {login} was changed. Every browser signed in with the old password was signed out.",
				ifNotYou: "If it was not you, someone else has access to your account: contact your administrator at once, and check the recent activity and the app passwords.",
			},
			store.NoticeMigration: {
				subject:      "Import from {host} finished",
				subjectAlt:   "Import from {host} stopped before the end",
				summary:      "The import of contacts and calendars from {host} into your account {login} is finished: {added} added, {updated} updated, {skipped} already here, {rejected} not imported.",
				summaryAlt:   "The import of contacts and calendars from {host} into your account {login} stopped before the end. Until then: {added} added, {updated} updated, {skipped} already here, {rejected} not imported. Starting it again brings the rest and adds nothing twice.",
				more:         "Its report, on the activity page, lists each address book and calendar, with the reason for each card or event not imported.",
				ifYou:        "If you started it, there is nothing to do.",
				ifNotYou:     "If you did not start it, someone else has access to your account: change your password at once, then check the recent activity and the app passwords.",
				securityLink: true,
			},
		},
	},
	"fr": {
		months:        [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		date:          "{day1} {month} {year} à {time} UTC",
		on:            "sur",
		greeting:      "Bonjour,",
		when:          "Quand\u00a0:",
		addr:          "Adresse\u00a0:",
		client:        "Appareil ou application\u00a0:",
		unknownAddr:   "inconnue",
		unknownClient: "inconnu",
		activity:      "Activité récente\u00a0:",
		passwords:     "Mots de passe d'application\u00a0:",
		security:      "Sécurité du compte\u00a0:",
		ifYou:         "Si c'était vous, vous n'avez rien à faire.",
		footer:        "Ce message de sécurité concernant votre compte a été envoyé automatiquement par rolodav\u00a0; les réponses ne sont pas lues. Vous pouvez choisir les messages que vous recevez sur la page de sécurité\u00a0:",
		kinds: map[string]kindText{
			store.NoticeNewSignIn: {
				subject:  "Nouvelle connexion à votre compte rolodav",
				summary:  "Quelqu'un s'est connecté à votre compte {login} depuis une adresse ou un appareil jamais utilisé auparavant avec ce compte.",
				viaWeb:   "La connexion a eu lieu sur les pages du compte.",
				viaDAV:   "La connexion a été faite par une application de synchronisation (CalDAV ou CardDAV).",
				ifNotYou: "Si ce n'était pas vous, quelqu'un d'autre connaît votre mot de passe\u00a0: changez-le immédiatement, puis vérifiez l'activité récente et supprimez tout mot de passe d'application que vous ne reconnaissez pas.",
			},
			store.NoticeFailedSignIns: {
				subject:    "Plusieurs échecs de connexion à votre compte",
				summary:    "Il y a eu au moins {count}\u00a0tentatives de connexion à votre compte {login} avec un mauvais mot de passe.",
				summaryAlt: "Il y a eu plusieurs tentatives de connexion à votre compte {login} avec un mauvais mot de passe.",
				more:       "rolodav ralentit les tentatives suivantes. Les détails ci-dessous sont ceux de la tentative qui a déclenché ce message.",
				ifYou:      "Si c'était vous, ou l'un de vos appareils avec un ancien mot de passe, il vous suffit de mettre à jour le mot de passe sur cet appareil.",
				ifNotYou:   "Si ce n'était pas vous, quelqu'un essaie peut-être de deviner votre mot de passe. Assurez-vous qu'il est long et que vous ne l'utilisez nulle part ailleurs, et pensez à activer la connexion en deux étapes.",
			},
			failedCodes: {
				subject:      "Codes de connexion en deux étapes erronés après un mot de passe correct",
				summary:      "Quelqu'un a saisi le bon mot de passe de votre compte {login}, puis un mauvais code de connexion en deux étapes, au moins {count}\u00a0fois.",
				summaryAlt:   "Quelqu'un a saisi le bon mot de passe de votre compte {login}, puis de mauvais codes de connexion en deux étapes.",
				more:         "La connexion en deux étapes a bloqué l'accès, et rolodav ralentit les tentatives suivantes. Les détails ci-dessous sont ceux de la tentative qui a déclenché ce message.",
				ifYou:        "Si c'était vous (un code mal saisi, ou un appareil dont l'horloge n'est pas à l'heure), vous n'avez rien à faire.",
				ifNotYou:     "Si ce n'était pas vous, quelqu'un d'autre connaît votre mot de passe\u00a0: changez-le immédiatement sur la page de sécurité, puis vérifiez l'activité récente et les mots de passe d'application.",
				securityLink: true,
			},
			store.NoticeTwoFactor: {
				subject:     "Connexion en deux étapes activée",
				subjectAlt:  "Connexion en deux étapes désactivée",
				summary:     "La connexion en deux étapes a été activée pour votre compte {login}. Désormais, les pages du compte demandent un code après votre mot de passe, et les applications de synchronisation ont besoin de mots de passe d'application.",
				summaryAlt:  "La connexion en deux étapes a été désactivée pour votre compte {login}. La connexion ne demande plus que votre mot de passe.",
				ifNotYou:    "Si ce n'était pas vous, quelqu'un d'autre connaît votre mot de passe\u00a0: changez-le immédiatement et vérifiez l'activité récente.",
				ifNotYouAlt: "Si ce n'était pas vous, quelqu'un d'autre connaît votre mot de passe et a eu accès à votre second facteur\u00a0: changez votre mot de passe immédiatement, réactivez la connexion en deux étapes et vérifiez l'activité récente.",
			},
			store.NoticeAppPassword: {
				subject:  "Nouveau mot de passe d'application\u00a0: {name}",
				summary:  "Un nouveau mot de passe d'application nommé «\u00a0{name}\u00a0» a été créé pour votre compte {login}. Il permet à un appareil ou à une application de synchroniser vos contacts et vos agendas.",
				ifNotYou: "Si ce n'était pas vous, supprimez-le immédiatement sur la page des mots de passe d'application, changez votre mot de passe et vérifiez l'activité récente.",
			},
			store.NoticePassword: {
				subject:  "Votre mot de passe a été modifié",
				summary:  "Le mot de passe de votre compte {login} a été modifié. Tous les navigateurs connectés avec l'ancien mot de passe ont été déconnectés.",
				ifNotYou: "Si ce n'était pas vous, quelqu'un d'autre a accès à votre compte\u00a0: contactez immédiatement votre administrateur, puis vérifiez l'activité récente et les mots de passe d'application.",
			},
			store.NoticeMigration: {
				subject:      "Importation depuis {host} terminée",
				subjectAlt:   "Importation depuis {host} arrêtée avant la fin",
				summary:      "L'importation des contacts et agendas de {host} dans votre compte {login} est terminée\u00a0: {added}\u00a0ajoutés, {updated}\u00a0mis à jour, {skipped}\u00a0déjà présents, {rejected}\u00a0non importés.",
				summaryAlt:   "L'importation des contacts et agendas de {host} dans votre compte {login} s'est arrêtée avant la fin. Jusque-là\u00a0: {added}\u00a0ajoutés, {updated}\u00a0mis à jour, {skipped}\u00a0déjà présents, {rejected}\u00a0non importés. La relancer importe le reste sans rien ajouter deux fois.",
				more:         "Son rapport, sur la page d'activité, détaille chaque carnet d'adresses et chaque agenda, avec la raison de chaque contact ou événement non importé.",
				ifYou:        "Si c'est vous qui l'avez lancée, vous n'avez rien à faire.",
				ifNotYou:     "Si ce n'est pas vous qui l'avez lancée, quelqu'un d'autre a accès à votre compte\u00a0: changez votre mot de passe immédiatement, puis vérifiez l'activité récente et les mots de passe d'application.",
				securityLink: true,
			},
		},
	},
	"de": {
		months:        [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		date:          "{day}. {month} {year}, {time} UTC",
		on:            "auf",
		greeting:      "Hallo,",
		when:          "Wann:",
		addr:          "Adresse:",
		client:        "Gerät oder App:",
		unknownAddr:   "unbekannt",
		unknownClient: "unbekannt",
		activity:      "Letzte Aktivitäten:",
		passwords:     "App-Passwörter:",
		security:      "Sicherheitseinstellungen:",
		ifYou:         "Wenn Sie das waren, müssen Sie nichts tun.",
		footer:        "Dies ist eine automatische Sicherheitsnachricht von rolodav zu Ihrem Konto; Antworten werden nicht gelesen. Welche dieser Nachrichten Sie erhalten, legen Sie auf der Sicherheitsseite fest:",
		kinds: map[string]kindText{
			store.NoticeNewSignIn: {
				subject:  "Neue Anmeldung bei Ihrem rolodav-Konto",
				summary:  "Bei Ihrem Konto {login} hat sich jemand von einer Adresse oder einem Gerät angemeldet, die bzw. das bisher nicht mit diesem Konto verwendet wurde.",
				viaWeb:   "Die Anmeldung erfolgte auf den Kontoseiten.",
				viaDAV:   "Die Anmeldung erfolgte durch eine Synchronisations-App (CalDAV oder CardDAV).",
				ifNotYou: "Wenn Sie das nicht waren, kennt jemand anderes Ihr Passwort: Ändern Sie es sofort, prüfen Sie dann die letzten Aktivitäten und löschen Sie jedes App-Passwort, das Sie nicht kennen.",
			},
			store.NoticeFailedSignIns: {
				subject:    "Mehrere fehlgeschlagene Anmeldeversuche bei Ihrem Konto",
				summary:    "Es gab mindestens {count} Versuche, sich mit einem falschen Passwort bei Ihrem Konto {login} anzumelden.",
				summaryAlt: "Es gab mehrere Versuche, sich mit einem falschen Passwort bei Ihrem Konto {login} anzumelden.",
				more:       "rolodav verlangsamt weitere Versuche. Die Angaben unten betreffen den Versuch, der diese Nachricht ausgelöst hat.",
				ifYou:      "Wenn Sie das waren oder eines Ihrer Geräte mit einem alten Passwort, müssen Sie nur das Passwort auf diesem Gerät aktualisieren.",
				ifNotYou:   "Wenn Sie das nicht waren, versucht vielleicht jemand, Ihr Passwort zu erraten. Achten Sie darauf, dass es lang ist und nirgendwo sonst verwendet wird, und schalten Sie am besten die Zwei-Faktor-Anmeldung ein.",
			},
			failedCodes: {
				subject:      "Falsche Zwei-Faktor-Codes nach richtigem Passwort",
				summary:      "Jemand hat für Ihr Konto {login} das richtige Passwort und danach mindestens {count}-mal einen falschen Zwei-Faktor-Code eingegeben.",
				summaryAlt:   "Jemand hat für Ihr Konto {login} das richtige Passwort und danach falsche Zwei-Faktor-Codes eingegeben.",
				more:         "Die Zwei-Faktor-Anmeldung hat den Zugang verhindert, und rolodav verlangsamt weitere Versuche. Die Angaben unten betreffen den Versuch, der diese Nachricht ausgelöst hat.",
				ifYou:        "Wenn Sie das waren (ein vertippter Code oder ein Gerät mit falsch gehender Uhr), müssen Sie nichts tun.",
				ifNotYou:     "Wenn Sie das nicht waren, kennt jemand anderes Ihr Passwort: Ändern Sie es sofort auf der Sicherheitsseite und prüfen Sie dann die letzten Aktivitäten und die App-Passwörter.",
				securityLink: true,
			},
			store.NoticeTwoFactor: {
				subject:     "Zwei-Faktor-Anmeldung eingeschaltet",
				subjectAlt:  "Zwei-Faktor-Anmeldung ausgeschaltet",
				summary:     "Für Ihr Konto {login} wurde die Zwei-Faktor-Anmeldung eingeschaltet. Ab jetzt verlangen die Kontoseiten bei der Anmeldung außer Ihrem Passwort einen Code, und Synchronisations-Apps brauchen App-Passwörter.",
				summaryAlt:  "Für Ihr Konto {login} wurde die Zwei-Faktor-Anmeldung ausgeschaltet. Zur Anmeldung genügt jetzt Ihr Passwort.",
				ifNotYou:    "Wenn Sie das nicht waren, kennt jemand anderes Ihr Passwort: Ändern Sie es sofort und prüfen Sie die letzten Aktivitäten.",
				ifNotYouAlt: "Wenn Sie das nicht waren, kennt jemand anderes Ihr Passwort und hatte Zugriff auf Ihren zweiten Faktor: Ändern Sie sofort Ihr Passwort, schalten Sie die Zwei-Faktor-Anmeldung wieder ein und prüfen Sie die letzten Aktivitäten.",
			},
			store.NoticeAppPassword: {
				subject:  "Neues App-Passwort: {name}",
				summary:  "Für Ihr Konto {login} wurde ein neues App-Passwort mit dem Namen „{name}“ erstellt. Damit kann ein Gerät oder eine App Ihre Kontakte und Kalender synchronisieren.",
				ifNotYou: "Wenn Sie das nicht waren, löschen Sie es sofort auf der Seite der App-Passwörter, ändern Sie Ihr Passwort und prüfen Sie die letzten Aktivitäten.",
			},
			store.NoticePassword: {
				subject:  "Ihr Passwort wurde geändert",
				summary:  "Das Passwort Ihres Kontos {login} wurde geändert. Alle Browser, die mit dem alten Passwort angemeldet waren, wurden abgemeldet.",
				ifNotYou: "Wenn Sie das nicht waren, hat jemand anderes Zugriff auf Ihr Konto: Wenden Sie sich sofort an Ihre Administration und prüfen Sie die letzten Aktivitäten und die App-Passwörter.",
			},
			store.NoticeMigration: {
				subject:      "Import von {host} abgeschlossen",
				subjectAlt:   "Import von {host} vor dem Ende abgebrochen",
				summary:      "Der Import der Kontakte und Kalender von {host} in Ihr Konto {login} ist abgeschlossen: {added} hinzugefügt, {updated} aktualisiert, {skipped} bereits vorhanden, {rejected} nicht importiert.",
				summaryAlt:   "Der Import der Kontakte und Kalender von {host} in Ihr Konto {login} wurde vor dem Ende abgebrochen. Bis dahin: {added} hinzugefügt, {updated} aktualisiert, {skipped} bereits vorhanden, {rejected} nicht importiert. Ein neuer Start holt den Rest und fügt nichts doppelt hinzu.",
				more:         "Sein Bericht auf der Aktivitätsseite führt jedes Adressbuch und jeden Kalender auf, mit dem Grund für jeden nicht importierten Kontakt und Termin.",
				ifYou:        "Wenn Sie ihn gestartet haben, müssen Sie nichts tun.",
				ifNotYou:     "Wenn Sie ihn nicht gestartet haben, hat jemand anderes Zugriff auf Ihr Konto: Ändern Sie sofort Ihr Passwort und prüfen Sie dann die letzten Aktivitäten und die App-Passwörter.",
				securityLink: true,
			},
		},
	},
	"it": {
		months:        [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		date:          "{day} {month} {year}, ore {time} UTC",
		on:            "su",
		greeting:      "Buongiorno,",
		when:          "Quando:",
		addr:          "Indirizzo:",
		client:        "Dispositivo o app:",
		unknownAddr:   "sconosciuto",
		unknownClient: "sconosciuto",
		activity:      "Attività recente:",
		passwords:     "Password per app:",
		security:      "Impostazioni di sicurezza:",
		ifYou:         "Se eri tu, non devi fare nulla.",
		footer:        "Questo è un messaggio di sicurezza automatico di rolodav sul tuo account; le risposte non vengono lette. Puoi scegliere quali di questi messaggi ricevere nella pagina della sicurezza:",
		kinds: map[string]kindText{
			store.NoticeNewSignIn: {
				subject:  "Nuovo accesso al tuo account rolodav",
				summary:  "Qualcuno ha effettuato l'accesso al tuo account {login} da un indirizzo o da un dispositivo mai usato prima con questo account.",
				viaWeb:   "L'accesso è avvenuto dalle pagine dell'account.",
				viaDAV:   "L'accesso è stato effettuato da un'app di sincronizzazione (CalDAV o CardDAV).",
				ifNotYou: "Se non eri tu, qualcun altro conosce la tua password: cambiala subito, poi controlla l'attività recente ed elimina ogni password per app che non riconosci.",
			},
			store.NoticeFailedSignIns: {
				subject:    "Diversi tentativi di accesso non riusciti al tuo account",
				summary:    "Ci sono stati almeno {count} tentativi di accesso al tuo account {login} con una password errata.",
				summaryAlt: "Ci sono stati diversi tentativi di accesso al tuo account {login} con una password errata.",
				more:       "rolodav rallenta i tentativi successivi. I dettagli qui sotto si riferiscono al tentativo che ha generato questo messaggio.",
				ifYou:      "Se eri tu, o un tuo dispositivo con una vecchia password, basta aggiornare la password su quel dispositivo.",
				ifNotYou:   "Se non eri tu, qualcuno potrebbe cercare di indovinare la tua password. Assicurati che sia lunga e che non la usi altrove, e valuta di attivare la verifica in due passaggi.",
			},
			failedCodes: {
				subject:      "Codici di verifica in due passaggi errati dopo una password corretta",
				summary:      "Qualcuno ha inserito la password corretta del tuo account {login} e poi un codice di verifica in due passaggi errato, almeno {count} volte.",
				summaryAlt:   "Qualcuno ha inserito la password corretta del tuo account {login} e poi codici di verifica in due passaggi errati.",
				more:         "La verifica in due passaggi ha impedito l'accesso e rolodav rallenta i tentativi successivi. I dettagli qui sotto si riferiscono al tentativo che ha generato questo messaggio.",
				ifYou:        "Se eri tu (un codice digitato male, o un dispositivo con l'orologio sbagliato), non devi fare nulla.",
				ifNotYou:     "Se non eri tu, qualcun altro conosce la tua password: cambiala subito nella pagina della sicurezza, poi controlla l'attività recente e le password per app.",
				securityLink: true,
			},
			store.NoticeTwoFactor: {
				subject:     "Verifica in due passaggi attivata",
				subjectAlt:  "Verifica in due passaggi disattivata",
				summary:     "La verifica in due passaggi è stata attivata per il tuo account {login}. D'ora in poi le pagine dell'account chiedono un codice dopo la password, e le app di sincronizzazione hanno bisogno di password per app.",
				summaryAlt:  "La verifica in due passaggi è stata disattivata per il tuo account {login}. Ora per accedere basta la password.",
				ifNotYou:    "Se non eri tu, qualcun altro conosce la tua password: cambiala subito e controlla l'attività recente.",
				ifNotYouAlt: "Se non eri tu, qualcun altro conosce la tua password e ha avuto accesso al tuo secondo fattore: cambia subito la password, riattiva la verifica in due passaggi e controlla l'attività recente.",
			},
			store.NoticeAppPassword: {
				subject:  "Nuova password per app: {name}",
				summary:  "Per il tuo account {login} è stata creata una nuova password per app chiamata «{name}». Permette a un dispositivo o a un'app di sincronizzare i tuoi contatti e calendari.",
				ifNotYou: "Se non eri tu, eliminala subito nella pagina delle password per app, cambia la password e controlla l'attività recente.",
			},
			store.NoticePassword: {
				subject:  "La tua password è stata modificata",
				summary:  "La password del tuo account {login} è stata modificata. Tutti i browser collegati con la vecchia password sono stati disconnessi.",
				ifNotYou: "Se non eri tu, qualcun altro ha accesso al tuo account: contatta subito l'amministratore, poi controlla l'attività recente e le password per app.",
			},
			store.NoticeMigration: {
				subject:      "Importazione da {host} completata",
				subjectAlt:   "Importazione da {host} interrotta prima della fine",
				summary:      "L'importazione di contatti e calendari da {host} nel tuo account {login} è completata: {added} aggiunti, {updated} aggiornati, {skipped} già presenti, {rejected} non importati.",
				summaryAlt:   "L'importazione di contatti e calendari da {host} nel tuo account {login} si è fermata prima della fine. Fin lì: {added} aggiunti, {updated} aggiornati, {skipped} già presenti, {rejected} non importati. Riavviarla importa il resto senza aggiungere nulla due volte.",
				more:         "Il suo resoconto, nella pagina dell'attività, elenca ogni rubrica e ogni calendario, con il motivo di ogni contatto o evento non importato.",
				ifYou:        "Se l'hai avviata tu, non devi fare nulla.",
				ifNotYou:     "Se non l'hai avviata tu, qualcun altro ha accesso al tuo account: cambia subito la password, poi controlla l'attività recente e le password per app.",
				securityLink: true,
			},
		},
	},
}
