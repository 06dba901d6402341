/**
 * `GET /saml/{integration}/metadata`: the SP metadata (XML) an IdP admin imports or an IdP fetches. A tool reads
 * it, not a person, so errors are the usual JSON answers. Served by the saml-acs function (saml-acs.ts).
 */
import { samlSpMetadata } from '../core/flows/saml-metadata.js';
import { METADATA_MEDIA_TYPE } from '../core/saml/metadata.js';
import { baseUrl, pathParam } from './runtime/http.js';
import type { HttpFn } from './runtime/http-handler.js';

export const samlMetadataRoute: HttpFn = async (app, event) => {
  const integration = pathParam(event, 'integration');
  const xml = await samlSpMetadata(app.flows, { integration, baseUrl: baseUrl(app, event) });
  return {
    statusCode: 200,
    headers: {
      'content-type': `${METADATA_MEDIA_TYPE}; charset=utf-8`,
      'content-disposition': `inline; filename="${integration}-sp-metadata.xml"`,
    },
    body: xml,
  };
};
