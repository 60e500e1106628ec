import * as pulumi from "@pulumi/pulumi";

/**
 * The object Pulumi serializes into every resource's state as `__provider`. Each method requires the
 * implementation by its stable package subpath at call time, so the stored text is a few hundred
 * bytes of stubs and refresh/destroy always run the installed implementation, never a copy frozen
 * at create time.
 *
 * FROZEN: any change to this text is a state-compatibility event (a golden test guards it). The
 * subpath "pulumi-capydb/provider" must stay in package.json "exports" forever.
 */
export const previewDatabaseProvider: pulumi.dynamic.ResourceProvider = {
  configure: (req) => require("pulumi-capydb/provider").configure(req),
  check: (olds, news) => require("pulumi-capydb/provider").check(olds, news),
  diff: (id, olds, news) => require("pulumi-capydb/provider").diff(id, olds, news),
  create: (inputs) => require("pulumi-capydb/provider").create(inputs),
  read: (id, props) => require("pulumi-capydb/provider").read(id, props),
  update: (id, olds, news) => require("pulumi-capydb/provider").update(id, olds, news),
  delete: (id, props) => require("pulumi-capydb/provider").delete(id, props),
};
