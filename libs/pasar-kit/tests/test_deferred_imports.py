"""Deferred modules: absent until first used, then the real ones, from any thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from mysql_rsa_login import MySqlRsaLoginServer

PASSWORD, SALT = b"s3cret", b"0123456789abcdefghij"


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_pymysql_imports_without_the_rsa_library_and_its_rsa_exchange_still_works_from_many_threads() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    output = run_python(
        f"""
        import sys
        from concurrent.futures import ThreadPoolExecutor
        from pasar_kit.deferred_imports import defer_mysql_rsa_support, MYSQL_RSA_MODULES
        assert defer_mysql_rsa_support() == list(MYSQL_RSA_MODULES)
        import peewee, pymysql
        print("cryptography.hazmat.bindings._rust" in sys.modules)
        from pymysql import _auth
        seal = lambda _: _auth.sha2_rsa_encrypt({PASSWORD!r}, {SALT!r}, {pem!r})
        with ThreadPoolExecutor(8) as pool:  # the first use, from eight threads at once
            sealed = list(pool.map(seal, range(8)))
        for message in sealed:
            print(message.hex())
        """
    )
    loaded, *sealed = output.splitlines()
    assert loaded == "False"
    expected = bytes(byte ^ SALT[i % len(SALT)] for i, byte in enumerate(PASSWORD + b"\0"))
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    assert [key.decrypt(bytes.fromhex(message), oaep) for message in sealed] == [expected] * 8


def test_peewee_and_a_sqlite_pool_work_without_the_mysql_driver_and_a_mysql_connection_imports_it(
    tmp_path: Path,
) -> None:
    """PyMySQL deferred as a whole package: peewee holds its stand-in, a SQLite pool never
    reads it, and what a MySQL connection reads of it (peewee's driver, the kit's check of
    a server refusing TLS, a submodule) is the real module."""
    output = run_python(
        f"""
        from pasar_kit.deferred_imports import defer_mysql_driver, is_deferred
        print(defer_mysql_driver())
        import peewee
        from pasar_kit import database as db
        pool = db.connect("sqlite:///{tmp_path / "test.db"}")
        with pool.connection_context():
            print(pool.execute_sql("SELECT 7").fetchone()[0], is_deferred("pymysql"))
        db.close_pool(pool)
        refused = peewee.mysql.err.OperationalError(2026, "SSL connection error")
        print(db._offers_no_tls(refused), is_deferred("pymysql"))
        from pymysql.constants import CR
        print(CR.CR_SSL_CONNECTION_ERROR, peewee.mysql.connect.__module__)
        """
    )
    assert output.splitlines() == ["['pymysql']", "7 True", "True False", "2026 pymysql.connections"]


def test_only_installed_modules_not_yet_imported_are_deferred() -> None:
    output = run_python(
        """
        import json
        from pasar_kit.deferred_imports import defer_modules, is_deferred
        print(defer_modules(("json", "no_such_package.module", "email.mime.text")))
        print(is_deferred("email.mime.text"))
        from email.mime.text import MIMEText
        print(MIMEText("x").get_content_type(), is_deferred("email.mime.text"))
        """
    )
    assert output.splitlines() == ["['email.mime.text']", "True", "text/plain False"]


def test_a_deferred_module_answers_for_its_spec_without_being_imported() -> None:
    """Code that asks whether a module is there (importlib.util.find_spec) before importing
    it gets its spec, as without the deferral, and the module stays deferred."""
    output = run_python(
        """
        import importlib.util
        from pasar_kit.deferred_imports import defer_modules, is_deferred
        defer_modules(("email.mime.text",))
        spec = importlib.util.find_spec("email.mime.text")
        print(spec.name, spec.origin.endswith("text.py"), is_deferred("email.mime.text"))
        """
    )
    assert output == "email.mime.text True True"


def test_a_module_already_imported_answers_while_another_is_being_imported_and_after_a_fork(
    tmp_path: Path,
) -> None:
    """PyMySQL keeps the stand-ins it imported and reads through them at every RSA login; a
    slow first import elsewhere must not hold those up, nor leave a forked worker (the
    supervisor forks while its other threads run) waiting for a lock no thread will free."""
    (tmp_path / "slowly").mkdir()
    (tmp_path / "slowly" / "__init__.py").write_text("")
    (tmp_path / "slowly" / "imported.py").write_text(
        "import builtins\nbuiltins.import_begun.set()\nbuiltins.release_import.wait()\nVALUE = 1\n"
    )
    output = run_python(
        f"""
        import builtins, os, sys, threading
        sys.path.insert(0, {str(tmp_path)!r})
        from pasar_kit.deferred_imports import defer_modules, is_deferred
        defer_modules(("email.mime.text", "slowly.imported"))
        import email.mime.text as text  # the stand-in, kept as PyMySQL keeps its own
        text.MIMEText  # imported now
        import slowly.imported as slow
        builtins.import_begun, builtins.release_import = threading.Event(), threading.Event()
        importing = threading.Thread(target=lambda: slow.VALUE)
        importing.start()
        builtins.import_begun.wait()
        answered = threading.Event()
        threading.Thread(target=lambda: text.MIMEText and answered.set(), daemon=True).start()
        print(answered.wait(10))
        child = os.fork()
        if child == 0:
            reader = threading.Thread(target=lambda: text.MIMEText and os._exit(0), daemon=True)
            reader.start()
            reader.join(10)
            os._exit(1)
        print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
        builtins.release_import.set()
        importing.join()
        print(slow.VALUE, is_deferred("slowly.imported"))
        """
    )
    assert output.splitlines() == ["True", "0", "1 False"]


def test_a_mysql_8_login_that_needs_the_rsa_exchange_works_with_it_deferred() -> None:
    """MySQL 8's caching_sha2_password without TLS (docker compose's MySQL): the password
    goes sealed with the server's RSA key, through the deferred modules."""
    server = MySqlRsaLoginServer(PASSWORD)
    try:
        output = run_python(
            f"""
            import sys
            from pasar_kit.deferred_imports import defer_mysql_rsa_support
            defer_mysql_rsa_support()
            import pymysql
            print("cryptography.hazmat.bindings._rust" in sys.modules)
            for password in ({PASSWORD!r}, b"wrong"):
                try:
                    login = dict(host="127.0.0.1", port={server.port}, user="shop", password=password)
                    pymysql.connect(**login).close()
                    print("connected")
                except pymysql.OperationalError as refused:
                    print(refused.args[0])
            """
        )
    finally:
        server.close()
    assert output.splitlines() == ["False", "connected", "1045"]
    assert server.logins == [True, False]


def test_code_importing_the_deferred_modules_later_gets_the_real_ones() -> None:
    """cryptography's own submodules, its classes through a stand-in or the real module,
    and OpenTelemetry's PyMySQL instrumentation, imported after the deferral."""
    output = run_python(
        """
        from pasar_kit.deferred_imports import defer_mysql_rsa_support
        defer_mysql_rsa_support()
        import pymysql
        from opentelemetry.instrumentation.pymysql import PyMySQLInstrumentor
        PyMySQLInstrumentor().instrument()
        from pymysql import _auth  # holds the stand-ins
        import cryptography.hazmat.primitives.serialization.ssh as ssh
        from cryptography.hazmat.primitives.serialization import pkcs12
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        print(_auth.hashes.SHA256 is hashes.SHA256, isinstance(_auth.hashes.SHA1(), hashes.HashAlgorithm))
        print(_auth.serialization.Encoding is serialization.Encoding is ssh.Encoding)
        print(callable(pkcs12.serialize_key_and_certificates), callable(x509.load_pem_x509_certificate))
        """
    )
    assert output.splitlines() == ["True True", "True", "True True"]
