"""``trade-ledger keys init | show``: the key that signs archive documents.

``init`` creates the local Ed25519 key (``TRADE_LEDGER__SIGNING__KEY_FILE``, default
``signing-key.pem`` in the user's config folder; mode 0600; never inside the archive) and
adds its public key to the trusted-keys file; it never replaces an existing key (exit 1).
``show`` prints the key id and public key of the configured signer (local or KMS), with
``--json`` as a ready trusted-keys entry. :func:`register` adds the ``keys`` group.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli.common import archive_settings, err, out, print_json
from adapters.signing import (
    KeyFileExistsError,
    LocalSigner,
    Signer,
    SigningError,
    create_key,
    trust_signer,
)

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="Private key file (default: TRADE_LEDGER__SIGNING__KEY_FILE or signing-key.pem "
        "in the user's config folder).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _outside_archive(path: Path) -> None:
    """A private key inside the (local) archive would be copied wherever the archive goes."""
    archive = archive_settings().local_directory.resolve()
    resolved = path.resolve()
    if resolved == archive or archive in resolved.parents:
        raise typer.BadParameter(
            f"{str(path)!r} is inside the archive directory {str(archive)!r}: a private key "
            "must never be stored in the archive",
            param_hint="--key-file",
        )


def init_key(
    key_file: KeyFileOption = None,
    trusted_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="Trusted-keys file its public key is added to (default: settings).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the signing key (refuses to replace one) and trust its public key."""
    signing = archive_settings().signing
    if key_file is None and signing.kms_key_id:
        raise typer.BadParameter(
            f"documents are signed with KMS key {signing.kms_key_id!r} "
            "(TRADE_LEDGER__SIGNING__KMS_KEY_ID); there is no local key to create "
            "(`trade-ledger keys show` prints its public key)",
            param_hint="--key-file",
        )
    path = key_file if key_file is not None else signing.key_path
    _outside_archive(path)
    trusted_path = trusted_keys_file if trusted_keys_file is not None else signing.trusted_keys_path
    try:
        signer = create_key(path)
    except KeyFileExistsError as error:
        err.print(f"{error} (`trade-ledger keys show` prints it)", style="red")
        raise typer.Exit(1) from error
    except SigningError as error:
        err.print(str(error), style="red")
        raise typer.Exit(1) from error
    try:
        trust_signer(trusted_path, signer, datetime.now(UTC))
    except (OSError, ValueError) as error:
        err.print(f"key created at {path}, but not trusted in {trusted_path}: {error}", style="red")
        raise typer.Exit(1) from error
    if as_json:
        print_json({**_key_json(signer, str(path)), "trusted_keys": str(trusted_path)})
        return
    out.print(f"created signing key {signer.key_id} ({signer.algorithm})")
    out.print(f"  private key: {path} (mode 0600; keep it out of the archive and backups)")
    out.print(f"  public key trusted in: {trusted_path}")


def show_key(key_file: KeyFileOption = None, as_json: JsonOption = False) -> None:
    """Print the signing key's id and public key (never the private key)."""
    signing = archive_settings().signing
    signer: Signer
    try:
        if key_file is None and signing.kms_key_id:
            from adapters.signing.kms import KmsSigner  # noqa: PLC0415  (boto3 only here)

            signer, source = KmsSigner(signing.kms_key_id), f"kms:{signing.kms_key_id}"
        else:
            path = key_file if key_file is not None else signing.key_path
            signer, source = LocalSigner.load(path), str(path)
        shown = _key_json(signer, source)
    except SigningError as error:
        err.print(str(error), style="red")
        raise typer.Exit(1) from error
    if as_json:
        print_json(shown)
        return
    out.print(f"key id:    {shown['key_id']}")
    out.print(f"algorithm: {shown['algorithm']}")
    out.print(f"source:    {source}")
    out.print(shown["public_key"].rstrip())


def _key_json(signer: Signer, source: str) -> dict[str, Any]:
    """The key as a trusted-keys entry (plus where it lives)."""
    return {
        "key_id": signer.key_id,
        "algorithm": signer.algorithm,
        "public_key": signer.public_key_pem(),
        "source": source,
    }


def register(app: typer.Typer) -> None:
    """Add the ``keys`` group (``init``, ``show``) to ``app``."""
    group = typer.Typer(
        name="keys", help="The key that signs archive documents.", no_args_is_help=True
    )
    group.command("init")(init_key)
    group.command("show")(show_key)
    app.add_typer(group, name="keys")
