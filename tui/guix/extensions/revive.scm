;;; guix-revive --- the `guix revive' command, as a Guix extension.
;;;
;;; Guix runs `guix revive ARGS...' by loading this module from a
;;; directory of GUIX_EXTENSIONS_PATH (guix-revive installs it in
;;; PREFIX/share/guix/extensions).  It hands everything over to
;;; `guix-revive env ARGS...', so that
;;;
;;;   guix revive -C channels.scm -m manifest.scm --fetch
;;;
;;; lowers that environment, plans every source it needs and fetches what
;;; is missing.  The program is `guix-revive' on PATH, or the one named by
;;; the GUIX_REVIVE environment variable.
;;;
;;; This file is part of guix-revive, under the GNU GPL version 3 or later.

(define-module (guix extensions revive)
  #:use-module (guix scripts)
  #:export (guix-revive))

(define (revive-program)
  "The guix-revive program to run."
  (let ((name (getenv "GUIX_REVIVE")))
    (if (and name (not (string-null? name)))
        name
        "guix-revive")))

(define-command (guix-revive . args)
  (category extension)
  (synopsis "revive a past environment: plan and fetch every source it needs")
  (let ((program (revive-program)))
    (catch 'system-error
      (lambda ()
        ;; Replace this process: exit status, signals and the terminal
        ;; are guix-revive's own.
        (apply execlp program program "env" args))
      (lambda error
        (format (current-error-port)
                "guix revive: error: cannot run '~a': ~a~%"
                program
                (strerror (system-error-errno error)))
        (exit 127)))))
